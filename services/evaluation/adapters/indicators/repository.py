"""Reading and writing evaluation results. Every read a hospital makes passes its code as ``tenant``: it then
sees the region's rows and its own (its hospital row, its departments, its doctors), never another hospital's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, false, func, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.indicators.compute import LEVEL_ORDER, Level, UnitIndicators
from ...domain.indicators.context import PaymentFigures, QualityFigures, ReviewFigures
from ...domain.indicators.groups import GroupProfile, Quadrant, RiskBand
from ...domain.indicators.periods import EvaluationPeriod
from .tables import evaluation_run, group_profile, indicator

LEVEL_CODE = {level: code for code, level in enumerate(LEVEL_ORDER)}
WHOLE_PERIOD = ""
"""The ``month`` of rows over the whole period."""


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    region: str
    period: EvaluationPeriod
    feed_sequence: int
    settlement_run: str
    weights_version: str
    inputs: Mapping[str, Any]
    cases: int
    hospitals: int
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """One unit's figures in a run, over the whole period (``month`` ``""``) or one month."""

    month: str
    figures: UnitIndicators
    hospital: str | None
    quadrant: Quadrant | None
    name: str = ""
    hospital_level: int | None = None
    quality: QualityFigures | None = None
    payment: PaymentFigures | None = None
    review: ReviewFigures | None = None


class EvaluationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, run: StoredRun, units: Iterable[StoredUnit], groups: Iterable[GroupProfile]) -> None:
        """Stores a run's results (all in the caller's transaction)."""
        await self.session.execute(insert(evaluation_run).values(
            run_id=run.run_id, region=run.region, period=str(run.period), period_kind=run.period.kind.value,
            feed_sequence=run.feed_sequence, settlement_run=run.settlement_run, weights_version=run.weights_version,
            inputs=dict(run.inputs), cases=run.cases, hospitals=run.hospitals))
        # Every row carries the run's region (the distribution key of a region-distributed layout).
        rows = [_unit_row(run.run_id, unit) | {"region": run.region} for unit in units]
        for start in range(0, len(rows), 5000):
            await self.session.execute(insert(indicator), rows[start:start + 5000])
        group_rows = [_group_row(run.run_id, g) | {"region": run.region} for g in groups]
        if group_rows:
            await self.session.execute(insert(group_profile), group_rows)

    async def run(self, run_id: str) -> StoredRun | None:
        row = (await self.session.execute(select(evaluation_run).where(evaluation_run.c.run_id == run_id))).first()
        return None if row is None else _stored_run(row._mapping)

    async def runs(self, region: str) -> list[StoredRun]:
        """Every stored run of a region, by period, then oldest first."""
        rows = await self.session.execute(select(evaluation_run).where(evaluation_run.c.region == region)
                                          .order_by(evaluation_run.c.period, evaluation_run.c.created_at))
        return [_stored_run(row._mapping) for row in rows]

    async def units(self, run_id: str, *, month: str = WHOLE_PERIOD, level: Level | None = None,
                    unit: str | None = None, tenant: str | None = None, after: tuple[int, str] | None = None,
                    limit: int | None = None) -> list[StoredUnit]:
        """Units of a run in listing order (level, then unit in byte order), after the keyset ``after``."""
        query = select(indicator).where(indicator.c.run_id == run_id, indicator.c.month == month,
                                        visible_to(tenant))
        if level is not None:
            query = query.where(indicator.c.level == LEVEL_CODE[level])
        if unit is not None:
            query = query.where(indicator.c.unit == unit)
        if after is not None:
            query = query.where(tuple_(indicator.c.level, indicator.c.unit) > tuple_(*after))
        query = query.order_by(indicator.c.level, indicator.c.unit)
        if limit is not None:
            query = query.limit(limit)
        return [_stored_unit(row._mapping) for row in await self.session.execute(query)]

    async def months(self, run_id: str, units: Sequence[tuple[Level, str]], tenant: str | None = None
                     ) -> list[StoredUnit]:
        """The monthly rows of the given units, by month."""
        if not units:
            return []
        wanted = or_(*(and_(indicator.c.level == LEVEL_CODE[level], indicator.c.unit == unit)
                       for level, unit in units))
        query = (select(indicator).where(indicator.c.run_id == run_id, indicator.c.month != WHOLE_PERIOD, wanted,
                                         visible_to(tenant))
                 .order_by(indicator.c.month, indicator.c.level, indicator.c.unit))
        return [_stored_unit(row._mapping) for row in await self.session.execute(query)]

    async def cmi_rank(self, run_id: str, hospital: str) -> tuple[int, int]:
        """(rank of the hospital by CMI among the run's hospitals, how many have a CMI): no other figures."""
        hospitals = (indicator.c.run_id == run_id, indicator.c.month == WHOLE_PERIOD,
                     indicator.c.level == LEVEL_CODE[Level.HOSPITAL], indicator.c.cmi.is_not(None))
        own = select(indicator.c.cmi).where(*hospitals, indicator.c.unit == hospital).scalar_subquery()
        higher = (await self.session.execute(select(func.count()).where(*hospitals, indicator.c.cmi > own)))
        count = (await self.session.execute(select(func.count()).where(*hospitals)))
        return int(higher.scalar_one()) + 1, int(count.scalar_one())

    async def groups(self, run_id: str, *, after: str | None = None, limit: int | None = None
                     ) -> list[GroupProfile]:
        query = select(group_profile).where(group_profile.c.run_id == run_id)
        if after is not None:
            query = query.where(group_profile.c.group_code > after)
        query = query.order_by(group_profile.c.group_code)
        if limit is not None:
            query = query.limit(limit)
        return [_group(row._mapping) for row in await self.session.execute(query)]


def visible_to(tenant: str | None) -> ColumnElement[bool]:
    """The tenant filter: everything for the bureau (``None``), the region's and its own rows for a hospital."""
    if tenant is None:
        return ~false()
    return or_(indicator.c.level == LEVEL_CODE[Level.REGION], indicator.c.hospital == tenant)


def _unit_row(run_id: str, u: StoredUnit) -> dict[str, Any]:
    f, q, p, r = u.figures, u.quality, u.payment, u.review
    return {
        "run_id": run_id, "month": u.month, "level": LEVEL_CODE[f.level], "unit": f.unit, "hospital": u.hospital,
        "name": u.name, "hospital_level": u.hospital_level, "cases": f.cases, "grouped": f.grouped,
        "grouping_rate": f.grouping_rate, "drg_count": f.drg_count, "total_weight": f.total_weight, "cmi": f.cmi,
        "time_index": f.time_index, "cost_index": f.cost_index, "low_risk_cases": f.low_risk_cases,
        "low_risk_deaths": f.low_risk_deaths, "low_risk_mortality": f.low_risk_mortality,
        "readmit15_rate": f.readmit15_rate, "quadrant": u.quadrant.value if u.quadrant else None,
        "lists_received": q.lists_received if q else None, "lists_accepted": q.lists_accepted if q else None,
        "qc_pass_rate": q.qc_pass_rate if q else None, "uploaded_in_time": q.uploaded_in_time if q else None,
        "timeliness": q.timeliness if q else None,
        "high_outlier_share": p.high_outlier_share if p else None,
        "low_outlier_share": p.low_outlier_share if p else None,
        "special_cases": p.special_cases if p else None, "surplus_fen": p.surplus_fen if p else None,
        "review_flags_per_1000": r.flags_per_thousand if r else None,
        "review_confirmed_fen": r.confirmed_fen if r else None,
    }


def _stored_unit(m: RowMapping) -> StoredUnit:
    figures = UnitIndicators(
        level=LEVEL_ORDER[m["level"]], unit=m["unit"], cases=m["cases"], grouped=m["grouped"],
        grouping_rate=_d(m["grouping_rate"]), drg_count=m["drg_count"], total_weight=_d(m["total_weight"]),
        cmi=_maybe(m["cmi"]), time_index=_maybe(m["time_index"]), cost_index=_maybe(m["cost_index"]),
        low_risk_cases=m["low_risk_cases"], low_risk_deaths=m["low_risk_deaths"],
        low_risk_mortality=_maybe(m["low_risk_mortality"]), readmit15_rate=_d(m["readmit15_rate"]))
    quality = None if m["lists_accepted"] is None else QualityFigures(
        m["lists_accepted"], m["uploaded_in_time"], _maybe(m["timeliness"]), m["lists_received"],
        _maybe(m["qc_pass_rate"]))
    payment = None if m["special_cases"] is None else PaymentFigures(
        _d(m["high_outlier_share"]), _d(m["low_outlier_share"]), m["special_cases"], m["surplus_fen"])
    review = None if m["review_confirmed_fen"] is None else ReviewFigures(
        _d(m["review_flags_per_1000"]), m["review_confirmed_fen"])
    return StoredUnit(month=m["month"], figures=figures, hospital=m["hospital"],
                      quadrant=Quadrant(m["quadrant"]) if m["quadrant"] else None, name=m["name"],
                      hospital_level=m["hospital_level"], quality=quality, payment=payment, review=review)


def _group_row(run_id: str, g: GroupProfile) -> dict[str, Any]:
    return {"run_id": run_id, "group_code": g.group, "cases": g.cases, "deaths": g.deaths, "rw": g.rw,
            "mean_los": g.mean_los, "mean_cost_fen": g.mean_cost_fen, "cost_cv": g.cost_cv, "mortality": g.mortality,
            "z_score": g.z_score, "band": g.band.value if g.band else None, "low_risk": g.low_risk}


def _group(m: RowMapping) -> GroupProfile:
    return GroupProfile(group=m["group_code"], cases=m["cases"], deaths=m["deaths"], rw=_maybe(m["rw"]),
                        mean_los=_d(m["mean_los"]), mean_cost_fen=m["mean_cost_fen"], cost_cv=_maybe(m["cost_cv"]),
                        mortality=_d(m["mortality"]), z_score=_maybe(m["z_score"]),
                        band=RiskBand(m["band"]) if m["band"] else None, low_risk=m["low_risk"])


def _stored_run(m: RowMapping) -> StoredRun:
    return StoredRun(run_id=m["run_id"], region=m["region"], period=EvaluationPeriod.parse(m["period"]),
                     feed_sequence=m["feed_sequence"], settlement_run=m["settlement_run"],
                     weights_version=m["weights_version"], inputs=m["inputs"], cases=m["cases"],
                     hospitals=m["hospitals"], created_at=m["created_at"])


def _d(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))


def _maybe(value: Decimal | None) -> Decimal | None:
    return None if value is None else _d(value)
