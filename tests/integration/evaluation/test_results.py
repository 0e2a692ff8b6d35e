"""Stored results on PostgreSQL: listing order and paging, the tenant filter, scorecards, group profiles."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from libs.common.errors import InvalidArgument, NotFound, PermissionDenied
from services.evaluation.adapters.indicators.files import read_cases
from services.evaluation.adapters.indicators.repository import StoredRun
from services.evaluation.domain.indicators.compute import Level
from services.evaluation.domain.indicators.context import QualityFigures
from services.evaluation.domain.indicators.evaluation import EvaluationResult, evaluate
from services.evaluation.domain.indicators.periods import EvaluationPeriod
from services.evaluation.service_layer.indicators.queries import (
    hospital_scorecard,
    list_groups,
    list_indicators,
    run_name,
)
from services.evaluation.service_layer.indicators.results import Contributions, Institution, stored_units
from services.evaluation.service_layer.indicators.unit_of_work import EvaluationUnitOfWork

from ...unit.evaluation.report_data import synthetic_year
from ...unit.evaluation.support import write_inputs

Uows = Callable[[], EvaluationUnitOfWork]
REGION = "330799"


async def store(uows: Uows, tmp_path: Path, period: str, seed: int) -> tuple[str, EvaluationResult]:
    cases, weights = synthetic_year(seed=seed, cases=1500, hospitals=5)
    cases_file, _ = write_inputs(tmp_path / f"{period}-{seed}", cases, weights)
    result = evaluate(read_cases(cases_file), [c["dscg_date"][:7] for c in cases],
                      {g: int(Decimal(w) * 10_000) for g, w in weights.items()})
    run_id = uuid.uuid4().hex
    institutions = {u.figures.unit: Institution(f"医院{i}", 1 + i % 3)
                    for i, u in enumerate(u for u in result.units if u.figures.level is Level.HOSPITAL)}
    quality = {"ALL": QualityFigures.of(1500, 1400, 1600, 1500)}
    async with uows() as uow:
        await uow.results.save(StoredRun(run_id, REGION, EvaluationPeriod.parse(period), 42, "", "w1", {"seed": seed},
                                         result.region.cases, len(institutions)),
                               stored_units(result, institutions, Contributions(quality, {}, {})), result.groups)
        await uow.commit()
    return run_name(REGION, run_id), result


async def test_indicators_page_in_listing_order_and_filter(evaluation_uows: Uows, tmp_path: Path) -> None:
    name, result = await store(evaluation_uows, tmp_path, "2026-H1", seed=1)
    listed, token = [], ""
    while True:
        page = await list_indicators(evaluation_uows, name, size=37, token=token)
        listed += page.units
        token = page.next_page_token
        if not token:
            break
    assert [u.figures for u in listed] == [u.figures for u in result.units]
    region = listed[0]
    assert region.quality == QualityFigures(1500, 1400, Decimal("0.9333"), 1600, Decimal("0.9375"))
    hospitals = await list_indicators(evaluation_uows, name, level=Level.HOSPITAL)
    assert [u.figures.unit for u in hospitals.units] == sorted(u.figures.unit for u in hospitals.units)
    assert all(u.name and u.hospital_level for u in hospitals.units)
    one = await list_indicators(evaluation_uows, name, level=Level.DEPT, unit=result.units[7].figures.unit)
    assert [u.figures for u in one.units] == [u.figures for u in result.units if u.figures.unit ==
                                             result.units[7].figures.unit and u.figures.level is Level.DEPT]
    with pytest.raises(InvalidArgument, match="page_token"):
        await list_indicators(evaluation_uows, name, token="forged")


async def test_a_hospital_sees_the_region_and_its_own_rows_only(evaluation_uows: Uows, tmp_path: Path) -> None:
    name, result = await store(evaluation_uows, tmp_path, "2026-H2", seed=2)
    hospital = next(u.figures.unit for u in result.units if u.figures.level is Level.HOSPITAL)
    seen = (await list_indicators(evaluation_uows, name, size=5000, tenant=hospital)).units
    expected = [u for u in result.units if u.figures.level is Level.REGION or u.hospital == hospital]
    assert [u.figures for u in seen] == [u.figures for u in expected]
    assert {u.hospital for u in seen} == {None, hospital}
    assert any(u.figures.level is Level.DOCTOR for u in seen) and any(u.figures.level is Level.DEPT for u in seen)
    other = next(u.figures.unit for u in result.units if u.figures.level is Level.HOSPITAL and
                 u.figures.unit != hospital)
    assert (await list_indicators(evaluation_uows, name, level=Level.HOSPITAL, unit=other, tenant=hospital)).units == []
    with pytest.raises(PermissionDenied):
        await hospital_scorecard(evaluation_uows, name, other, tenant=hospital)


async def test_a_scorecard_holds_the_hospital_against_the_region_by_month_and_period(evaluation_uows: Uows,
                                                                                   tmp_path: Path) -> None:
    first, _ = await store(evaluation_uows, tmp_path, "2025", seed=3)
    name, result = await store(evaluation_uows, tmp_path, "2026", seed=4)
    hospitals = [u for u in result.units if u.figures.level is Level.HOSPITAL]
    hospital = hospitals[2].figures.unit
    card = await hospital_scorecard(evaluation_uows, name, hospital, tenant=hospital)
    assert card.hospital.figures == hospitals[2].figures and card.region.figures == result.region
    assert [d.figures.unit for d in card.departments] == sorted(u.figures.unit for u in result.units
                                                                if u.figures.level is Level.DEPT
                                                                and u.hospital == hospital)
    assert [m for m, _, _ in card.months] == [m for m, _ in result.months]
    january = dict(result.months)[card.months[0][0]]
    assert card.months[0][2].figures == january[0].figures
    cmis = sorted((u.figures.cmi for u in hospitals if u.figures.cmi is not None), reverse=True)
    assert card.cmi_rank == cmis.index(hospitals[2].figures.cmi) + 1 and card.hospitals_ranked == len(cmis)
    assert [str(p.run.period) for p in card.periods] == ["2025", "2026"]
    assert run_name(REGION, card.periods[0].run.run_id) == first
    with pytest.raises(NotFound):
        await hospital_scorecard(evaluation_uows, name, "H00000000000")
    with pytest.raises(NotFound):
        await hospital_scorecard(evaluation_uows, f"regions/{REGION}/evaluationRuns/{'0' * 32}", hospital)


async def test_group_profiles_page_by_group(evaluation_uows: Uows, tmp_path: Path) -> None:
    name, result = await store(evaluation_uows, tmp_path, "2026-05", seed=5)
    first = await list_groups(evaluation_uows, name, size=7)
    second = await list_groups(evaluation_uows, name, size=100, token=first.next_page_token)
    assert first.groups + second.groups == list(result.groups) and second.next_page_token == ""
