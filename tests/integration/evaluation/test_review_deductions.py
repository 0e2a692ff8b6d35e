"""Review's deductions per hospital (ListDeductions, what a settlement clearing deducts) on PostgreSQL: a finding
raised by two review runs over the same lists and confirmed in both is deducted once."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert

from libs.common.db.migrate import upgrade
from libs.common.registry import Schema
from services.evaluation.adapters.review import tables as review_tables
from services.evaluation.adapters.review.repository import ReviewRepository

from .test_review_figures import MIGRATIONS, Uows, flag

REGION = "339700"  # a region no other test stores review results for


def _flag(run: str, hospital: str, setl_id: str, rule: str, fen: int, *, state: str = "CONFIRMED",
          evidence: str = "", period: str = "2024-03") -> dict[str, object]:
    return {**flag(run, hospital, setl_id, rule, period, state=state, fen=fen, evidence=evidence), "region": REGION}


async def test_a_finding_confirmed_in_two_runs_is_deducted_once(evaluation_uows: Uows, database_url: str) -> None:
    await asyncio.to_thread(upgrade, Schema("review", MIGRATIONS), database_url)
    async with evaluation_uows() as uow:
        await uow.session.execute(insert(review_tables.flag), [
            _flag("month", "H1", "s1", "RV-DUP-01", 30_00, evidence="item A twice"),
            _flag("month", "H1", "s1", "RV-DUP-01", 20_00, evidence="item B twice"),  # two findings of one run
            _flag("year", "H1", "s1", "RV-DUP-01", 30_00, evidence="item A twice"),   # the month's again
            _flag("year", "H1", "s1", "RV-DUP-01", 20_00, evidence="item B twice"),
            _flag("year", "H1", "s2", "RV-UPC-01", 500_00, evidence="population 400"),
            _flag("month", "H1", "s2", "RV-UPC-01", 450_00, evidence="population 35"),  # other evidence, same finding
            _flag("year", "H1", "s1", "RV-SEX-01", 12_00),                           # another rule on s1
            _flag("year", "H2", "s3", "RV-DUP-01", 7_00, state="DISMISSED"),
            _flag("year", "H2", "s4", "RV-DUP-01", 8_00, period="2024-04")])
        await uow.commit()
    async with evaluation_uows() as uow:
        repo = ReviewRepository(uow.session)
        march = await repo.deductions(REGION, ["2024-03"])
        spring = await repo.deductions(REGION, ["2024-03", "2024-04"])
    # H1: the month's two RV-DUP-01 findings on s1 (50.00), the year's RV-UPC-01 on s2 (its flag came first:
    # 500.00) and RV-SEX-01 (12.00); never the year's copies of the month's findings.
    assert march == [("H1", 562_00, 4)]
    assert spring == [("H1", 562_00, 4), ("H2", 8_00, 1)]
