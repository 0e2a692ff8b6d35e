"""Review flags per 1,000 lists and confirmed amounts: what smart review stored in schema ``review`` read into an
evaluation's figures (the evaluation service hosts both APIs and reads its own review results)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from libs.common.db.migrate import upgrade
from libs.common.registry import Schema
from services.evaluation.adapters.indicators.collection_feed import FeedCase
from services.evaluation.adapters.review import tables as review_tables
from services.evaluation.domain.indicators.context import ReviewFigures
from services.evaluation.domain.indicators.periods import EvaluationPeriod
from services.evaluation.service_layer.indicators.runs import read_review
from services.evaluation.service_layer.indicators.unit_of_work import EvaluationUnitOfWork

Uows = Callable[[], EvaluationUnitOfWork]
REGION = "339800"  # a region no other test stores review results for
MIGRATIONS = Path(review_tables.__file__).parent / "migrations"


def case(list_id: str, hospital: str) -> FeedCase:
    return FeedCase(list_id=list_id, active=True, hospital=hospital, hospital_level=2, month="2024-03", psn_no="p",
                    admission=date(2024, 3, 1), discharge=date(2024, 3, 4), los=3, discharge_way="1",
                    department="A03", doctor="D1", groups=(), total_fen=100_00)


def flag(run: str, hospital: str, setl_id: str, rule: str, period: str, *, state: str = "NEW", fen: int = 0,
         evidence: str = "") -> dict[str, Any]:
    return {"region": REGION, "run_name": run, "rule_set": "ruleSets/r/versions/1", "fixmedins_code": hospital,
            "setl_id": setl_id, "mdtrt_id": "m", "psn_no": "p", "period": period, "rule_id": rule,
            "rule_version": "1", "rule_name": rule, "category": "c", "severity": "s", "found_fen": fen,
            "amount_fen": fen, "evidence": evidence, "lines": [], "related_setl_id": "", "state": state,
            "fingerprint": f"{run}/{setl_id}/{rule}/{evidence}"}


def review_run(name: str, period: str) -> dict[str, Any]:
    return {"name": name, "region": REGION, "period": period, "rule_set": "ruleSets/r/versions/1",
            "as_of_sequence": 1, "list_count": 0, "lists_with_details": 0, "flag_count": 0, "amount_fen": 0,
            "knowledge_versions": []}


async def test_flags_per_thousand_lists_and_confirmed_amounts(evaluation_uows: Uows, database_url: str) -> None:
    await asyncio.to_thread(upgrade, Schema("review", MIGRATIONS), database_url)
    march = EvaluationPeriod.parse("2024-03")
    cases = [case(f"a{i}", "H1") for i in range(3)] + [case(f"b{i}", "H2") for i in range(7)]
    assert await read_review(evaluation_uows, REGION, march, cases) == ({}, "")  # no review run: not shown

    async with evaluation_uows() as uow:
        await uow.session.execute(insert(review_tables.review_run), [
            review_run(f"regions/{REGION}/reviewRuns/2024-03~a", "2024-03"),
            review_run(f"regions/{REGION}/reviewRuns/2024-03~b", "2024-03"),
            review_run(f"regions/{REGION}/reviewRuns/2024-03~c", "2024-03")])
        await uow.session.execute(insert(review_tables.flag), [
            flag("a", "H1", "s1", "R1", "2024-03", state="CONFIRMED", fen=1234_56),
            flag("a", "H1", "s1", "R2", "2024-03", state="DISMISSED", fen=50_00),
            flag("a", "H1", "s1", "R2", "2024-03", evidence="another line"),  # the same finding twice in a run
            flag("b", "H1", "s1", "R1", "2024-03"),          # the same finding again in a later run
            flag("c", "H1", "s1", "R1", "2024-03", state="CONFIRMED", fen=1234_56),  # and confirmed again: once
            flag("a", "H1", "s9", "R1", "2024-04", state="CONFIRMED", fen=99_00),  # another month
            flag("a", "H3", "s7", "R1", "2024-03", state="CONFIRMED", fen=10_00)])  # a hospital without evaluated lists
        await uow.commit()
    figures, version = await read_review(evaluation_uows, REGION, march, cases)
    assert version.startswith("flags<=")
    # H1: 2 findings (R1 and R2 on s1) over 3 lists; H2: none over 7; the region: H1's and H3's over 10 lists.
    assert figures["H1"] == ReviewFigures(Decimal("666.6667"), 1234_56)
    assert figures["H2"] == ReviewFigures(Decimal("0.0000"), 0)
    assert figures["ALL"] == ReviewFigures(Decimal("200.0000"), 1234_56)
    assert "H3" not in figures

    year, _ = await read_review(evaluation_uows, REGION, EvaluationPeriod.parse("2024"), cases)
    assert year["H1"] == ReviewFigures(Decimal("1000.0000"), 1333_56)  # April's finding too
    assert await read_review(evaluation_uows, REGION, EvaluationPeriod.parse("2024-H2"), cases) == ({}, "")
