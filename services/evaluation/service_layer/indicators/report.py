"""The published report of a region and period, from the latest stored run of that period."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.errors import NotFound

from ...adapters.indicators.repository import StoredRun
from ...domain.indicators.compute import Level
from ...domain.indicators.periods import EvaluationPeriod
from ...reporting.model import EvaluationReport, HospitalEntry, TrendPoint
from .queries import UowFactory, run_name
from .unit_of_work import EvaluationUnitOfWork


async def latest_run(uow: EvaluationUnitOfWork, region: str, period: EvaluationPeriod) -> StoredRun:
    runs = [run for run in await uow.results.runs(region) if run.period == period]
    if not runs:
        raise NotFound(f"no finished evaluation run of region {region} for {period}", reason="RUN_NOT_FOUND",
                       metadata={"region": region, "period": str(period)})
    return runs[-1]


async def build_report(uows: UowFactory, region: str, period: EvaluationPeriod, *, region_name: str = "",
                       now: datetime | None = None) -> EvaluationReport:
    """Everything the report shows, read from the latest run of ``period`` (the bureau's view: all hospitals)."""
    async with uows() as uow:
        run = await latest_run(uow, region, period)
        units = await uow.results.units(run.run_id, level=Level.REGION) + \
            await uow.results.units(run.run_id, level=Level.HOSPITAL)
        hospital_codes = [u.figures.unit for u in units[1:]]
        monthly = await uow.results.months(run.run_id, [(Level.REGION, "ALL"),
                                                        *((Level.HOSPITAL, code) for code in hospital_codes)])
        groups = await uow.results.groups(run.run_id)
    region_unit = units[0]
    hospitals = tuple(HospitalEntry(code=u.figures.unit, name=u.name, level=u.hospital_level, figures=u.figures,
                                    quadrant=u.quadrant, quality=u.quality, payment=u.payment, review=u.review)
                      for u in units[1:])
    trends = tuple(TrendPoint(u.month, u.figures.unit, u.figures) for u in monthly)
    notes = []
    if region_unit.quality is None:
        notes.append("Data-quality figures from collection are not available for this run.")
    if region_unit.payment is None:
        notes.append("No settlement run of the period was available: outlier shares, special cases and surplus "
                     "are not shown.")
    if region_unit.review is None:
        notes.append("No smart-review results of the period were available: review flags are not shown.")
    inputs = tuple((key, str(value)) for key, value in sorted(run.inputs.items()))
    return EvaluationReport(
        region=region, region_name=region_name or f"医保区划 {region}", period=str(period),
        run=run_name(region, run.run_id), generated_at=now or datetime.now(UTC), inputs=inputs,
        region_figures=region_unit.figures, hospitals=hospitals, groups=tuple(groups), trends=trends,
        region_quality=region_unit.quality, region_payment=region_unit.payment, region_review=region_unit.review,
        notes=tuple(notes))
