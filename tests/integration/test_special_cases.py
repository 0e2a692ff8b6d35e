"""Special cases on PostgreSQL: a hospital applies for a case a run settled, the bureau approves within the cap
of the year's active policy or rejects, every decision is kept, and a settlement run's unit of work reads the
approved cases."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from libs.common.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from libs.common.runtime import Runtime
from services.settlement.bootstrap import SettlementApp, build_app
from services.settlement.domain.policies import GroupScheme
from services.settlement.domain.special_cases import SpecialCaseState
from services.settlement.service_layer.policies import CreatePolicy
from services.settlement.service_layer.special_cases import SpecialCases

H1, H2 = "H33070300001", "H33070300002"


@pytest.fixture(scope="module")
async def app(runtime: Runtime) -> AsyncIterator[SettlementApp]:
    built = build_app(runtime)
    yield built
    await built.close()


async def settled(app: SettlementApp, region: str, cases: dict[str, str], month: str = "2026-03",
                  period: str | None = None) -> str:
    """A finished run of ``region`` that settled ``cases`` (list id -> hospital) discharged in ``month``: the
    month's advance, or with ``period`` a year the clearing of it; returns its id."""
    run_id = f"run-{region}-{month}-{random.randrange(10**9)}"
    async with app.new_uow() as uow:
        await uow.session.execute(text(
            "INSERT INTO settlement.settlement_run (run_id, region, period, run_type, policy, weight_table, "
            "feed_sequence, method, cases, hospitals, totals, statements_digest) VALUES (:run, :region, :period, "
            ":type, 'p', 'w', 1, 'points', :n, 1, '{}', 'd')"), {
                "run": run_id, "region": region, "period": period or month, "n": len(cases),
                "type": "clearing" if period and "-" not in period else "advance"})
        for list_id, code in cases.items():
            await uow.session.execute(text(
                "INSERT INTO settlement.case_result (run_id, region, setl_list_id, revision, fixmedins_code, month, "
                "group_code, kind, halved, total_cost, terms) VALUES (:run, :region, :id, 1, :code, :month, 'FM19', "
                "0, false, 100, '{}')"), {"run": run_id, "region": region, "id": list_id, "code": code,
                                          "month": month})
        await uow.commit()
    return run_id


async def policy(app: SettlementApp, region: str, cap_share: str) -> None:
    params = {"method": "points", "weights": {"years": [2025]}, "budget": "1000000.00",
              "special_cases": {"approved": [], "cap_share": cap_share}}
    created = await app.policies.create(CreatePolicy(region, 2026, json.dumps(params), GroupScheme.DRG, None, None,
                                                     "test"))
    await app.policies.activate(created.name, "prefecture:" + region)


def region() -> str:
    return f"{random.randrange(100000, 999999)}"


async def test_apply_approve_within_the_cap_reject_and_the_run_reads_the_approved(app: SettlementApp) -> None:
    r, cases = region(), SpecialCases(app.new_uow)
    await settled(app, r, {f"L{i:03d}": H1 if i % 2 else H2 for i in range(40)})
    await policy(app, r, "0.05")  # floor(0.05 x 40) = 2
    applied = await cases.apply(r, "L001", "ICU for 60 days", request_id="a1", actor=f"hospital:{H1}", hospital=H1)
    assert (applied.case.state, applied.case.year, applied.case.fixmedins_code) == (SpecialCaseState.APPLIED, 2026,
                                                                                      H1)
    assert [(h.state, h.actor) for h in applied.history] == [(SpecialCaseState.APPLIED, f"hospital:{H1}")]
    again = await cases.apply(r, "L001", "ICU for 60 days", request_id="a1", actor=f"hospital:{H1}", hospital=H1)
    assert again == applied
    with pytest.raises(AlreadyExists) as reused:
        await cases.apply(r, "L003", "other", request_id="a1", actor=f"hospital:{H1}", hospital=H1)
    assert reused.value.reason == "REQUEST_ID_REUSED"
    with pytest.raises(PermissionDenied):
        await cases.apply(r, "L002", "not mine", request_id="", actor=f"hospital:{H1}", hospital=H1)
    with pytest.raises(NotFound) as unknown:
        await cases.apply(r, "L999", "never settled", request_id="", actor=f"hospital:{H1}", hospital=H1)
    assert unknown.value.reason == "CASE_NOT_FOUND"

    for list_id in ("L003", "L005", "L007"):
        await cases.apply(r, list_id, "rare disease", request_id="", actor=f"hospital:{H1}", hospital=H1)
    name = f"regions/{r}/specialCases/"
    approved = await cases.approve(name + "L001", "agreed", request_id="d1", actor=f"prefecture:{r}")
    assert approved.case.state is SpecialCaseState.APPROVED and approved.case.decided_by == f"prefecture:{r}"
    assert [h.state for h in approved.history] == [SpecialCaseState.APPLIED, SpecialCaseState.APPROVED]
    await cases.approve(name + "L003", "", request_id="", actor=f"prefecture:{r}")  # the cap reached exactly
    with pytest.raises(FailedPrecondition) as over:
        await cases.approve(name + "L005", "", request_id="", actor=f"prefecture:{r}")
    assert over.value.reason == "SPECIAL_CASE_CAP_REACHED" and over.value.metadata == {"cap": "2", "approved": "2"}
    rejected = await cases.reject(name + "L005", "an ordinary stay", request_id="", actor=f"prefecture:{r}")
    assert rejected.case.state is SpecialCaseState.REJECTED and rejected.case.decision_note == "an ordinary stay"
    with pytest.raises(FailedPrecondition) as decided:
        await cases.reject(name + "L001", "too late", request_id="", actor=f"prefecture:{r}")
    assert decided.value.reason == "SPECIAL_CASE_NOT_PENDING"

    async with app.new_uow() as uow:  # what a settlement run reads
        assert await uow.special_cases.approved(r, 2026) == frozenset({"L001", "L003"})
        assert await uow.special_cases.approved(r, 2025) == frozenset()

    page = await cases.list(r, fixmedins_code="", year=2026, state=None, size=2, token="")
    assert [c.case.setl_list_id for c in page.cases] == ["L001", "L003"] and page.next_page_token
    rest = await cases.list(r, fixmedins_code="", year=2026, state=None, size=2, token=page.next_page_token)
    assert [c.case.setl_list_id for c in rest.cases] == ["L005", "L007"] and not rest.next_page_token
    pending = await cases.list(r, fixmedins_code=H1, year=0, state=SpecialCaseState.APPLIED, size=10, token="")
    assert [c.case.setl_list_id for c in pending.cases] == ["L007"]


async def test_concurrent_approvals_never_pass_the_cap(app: SettlementApp) -> None:
    r, cases = region(), SpecialCases(app.new_uow)
    await settled(app, r, {f"L{i:03d}": H1 for i in range(60)})
    await policy(app, r, "0.05")  # cap 3
    for i in range(8):
        await cases.apply(r, f"L{i:03d}", "grounds", request_id="", actor="h", hospital=None)
    outcomes = await asyncio.gather(*(cases.approve(f"regions/{r}/specialCases/L{i:03d}", "", request_id="",
                                                    actor="p") for i in range(8)), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, FailedPrecondition)]
    assert len(outcomes) - len(refused) == 3 and all(o.reason == "SPECIAL_CASE_CAP_REACHED" for o in refused)
    async with app.new_uow() as uow:
        assert len(await uow.special_cases.approved(r, 2026)) == 3


async def test_approval_needs_an_active_policy_and_a_rejected_case_may_be_applied_for_again(
        app: SettlementApp) -> None:
    r, cases = region(), SpecialCases(app.new_uow)
    await settled(app, r, {"L1": H1})
    await cases.apply(r, "L1", "grounds", request_id="", actor="h", hospital=H1)
    with pytest.raises(FailedPrecondition) as no_policy:
        await cases.approve(f"regions/{r}/specialCases/L1", "", request_id="", actor="p")
    assert no_policy.value.reason == "POLICY_NOT_FOUND"
    await cases.reject(f"regions/{r}/specialCases/L1", "no grounds", request_id="", actor="p")
    again = await cases.apply(r, "L1", "new grounds", request_id="", actor="h", hospital=H1)
    assert again.case.state is SpecialCaseState.APPLIED and again.case.reason == "new grounds"
    assert [h.state.value for h in again.history] == ["applied", "rejected", "applied"]
    async with app.new_uow() as uow:
        with pytest.raises(Exception, match="append-only"):
            await uow.session.execute(text("DELETE FROM settlement.special_case_decision WHERE region = :r"),
                                      {"r": r})


async def test_after_the_years_clearing_no_case_of_it_is_applied_for_or_approved(app: SettlementApp) -> None:
    """A case applied for before the clearing and decided after it would be recorded and never paid."""
    r, cases = region(), SpecialCases(app.new_uow)
    await policy(app, r, "1")
    await settled(app, r, {"L1": H1, "L2": H1})
    await cases.apply(r, "L1", "grounds", request_id="", actor="h", hospital=H1)
    clearing = await settled(app, r, {"L1": H1, "L2": H1}, period="2026")
    with pytest.raises(FailedPrecondition) as late:
        await cases.approve(f"regions/{r}/specialCases/L1", "", request_id="", actor="p")
    assert (late.value.reason, late.value.metadata["settlement_run"]) == (
        "YEAR_ALREADY_CLEARED", f"regions/{r}/settlementRuns/{clearing}")
    with pytest.raises(FailedPrecondition) as too_late:
        await cases.apply(r, "L2", "grounds", request_id="", actor="h", hospital=H1)
    assert too_late.value.reason == "YEAR_ALREADY_CLEARED"
    rejected = await cases.reject(f"regions/{r}/specialCases/L1", "the year is cleared", request_id="", actor="p")
    assert rejected.case.state is SpecialCaseState.REJECTED  # an open application can still be closed

