"""The ledger and special cases over a real gRPC server and PostgreSQL: entries posted by a run listed page by
page, balances per account, a reversal, and a special case applied for, approved and listed; errors name their
reasons."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import grpc
import pytest
from medpay.settlement.v1 import ledger_pb2 as lpb
from medpay.settlement.v1 import ledger_pb2_grpc as lpb_grpc
from medpay.settlement.v1 import settlement_pb2 as spb
from medpay.settlement.v1 import settlement_pb2_grpc as spb_grpc
from medpay.settlement.v1 import special_cases_pb2 as cpb
from medpay.settlement.v1 import special_cases_pb2_grpc as cpb_grpc
from sqlalchemy import text

from libs.common.grpc.server import start_server
from libs.common.runtime import Runtime
from services.settlement.bootstrap import SettlementApp, build_app, service_spec
from services.settlement.service_layer.completion import CompletedRun, StatementTotals, complete_run
from services.settlement.service_layer.ledger import post_completed_run

from .rpc_errors import error_info

H1, H2 = "H33070300001", "H33070300002"


@pytest.fixture(scope="module")
async def served(runtime: Runtime) -> AsyncIterator[tuple[SettlementApp, grpc.aio.Channel]]:
    app = build_app(runtime)
    running = await start_server(service_spec(app), runtime.settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield app, channel
    await running.stop()


def region() -> str:
    return f"{random.randrange(100000, 999999)}"


async def test_a_runs_entries_and_balances_over_grpc_and_a_reversal(
        served: tuple[SettlementApp, grpc.aio.Channel]) -> None:
    app, channel = served
    stub, r = lpb_grpc.LedgerServiceStub(channel), region()
    codes = [f"H3307030{i:04d}" for i in range(5)]
    run = CompletedRun("m1", f"regions/{r}/settlementRuns/m1", r, "2026-03", "advance",
                       tuple(StatementTotals(c, 0, 0, 1000 * (i + 1), 0, 0, 1000 * (i + 1))
                             for i, c in enumerate(codes)))
    async with app.new_uow() as uow:
        await complete_run(uow, run, (post_completed_run,))
        await uow.commit()
    names, token = [], ""
    while True:
        page = await stub.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{r}", page_size=2,
                                                                         page_token=token))
        names += [e.name for e in page.ledger_entries]
        token = page.next_page_token
        if not token:
            break
    assert len(names) == 5
    first = await stub.GetLedgerEntry(lpb.GetLedgerEntryRequest(name=names[0]))
    assert first.kind == lpb.LEDGER_ENTRY_KIND_ADVANCE and first.fixmedins_code == codes[0]
    assert first.settlement_run == run.name and (first.settlement_period.year, first.settlement_period.month,
                                                 first.settlement_period.day) == (2026, 3, 0)
    assert first.total.fen == 1000 and {(ln.account, ln.debit.fen, ln.credit.fen) for ln in first.lines} == {
        (f"regions/{r}/ledgerAccounts/fund-settlement", 1000, 0),
        (f"regions/{r}/ledgerAccounts/{codes[0]}.advances-payable", 0, 1000)}
    accounts = await stub.ListLedgerAccounts(lpb.ListLedgerAccountsRequest(parent=f"regions/{r}"))
    by_name = {a.name.rsplit("/", 1)[1]: a for a in accounts.ledger_accounts}
    assert by_name["fund-settlement"].balance.fen == 15000
    assert by_name[f"{codes[4]}.advances-payable"].balance.fen == -5000
    assert by_name[f"{codes[4]}.advances-payable"].kind == lpb.LEDGER_ACCOUNT_KIND_ADVANCES_PAYABLE

    fix = await stub.ReverseLedgerEntry(lpb.ReverseLedgerEntryRequest(name=names[0], reason="wrong month",
                                                                      request_id="r-1"))
    assert fix.kind == lpb.LEDGER_ENTRY_KIND_REVERSAL and fix.reverses == names[0] and fix.memo == "wrong month"
    assert (await stub.GetLedgerEntry(lpb.GetLedgerEntryRequest(name=names[0]))).reversed_by == fix.name
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.ReverseLedgerEntry(lpb.ReverseLedgerEntryRequest(name=names[0], reason="again"))
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(twice.value)[0].reason == "LEDGER_ENTRY_REVERSED"
    own = await stub.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{r}", fixmedins_code=codes[0]))
    assert [e.kind for e in own.ledger_entries] == [lpb.LEDGER_ENTRY_KIND_ADVANCE, lpb.LEDGER_ENTRY_KIND_REVERSAL]

    for call, code, reason in (
            (stub.GetLedgerEntry(lpb.GetLedgerEntryRequest(name=f"regions/{r}/ledgerEntries/999999999")),
             grpc.StatusCode.NOT_FOUND, "LEDGER_ENTRY_NOT_FOUND"),
            (stub.GetLedgerEntry(lpb.GetLedgerEntryRequest(name="ledgerEntries/1")),
             grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
            (stub.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{r}", page_token="forged")),
             grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"),
            (stub.ListLedgerAccounts(lpb.ListLedgerAccountsRequest(parent=f"regions/{r}", fixmedins_code="H1")),
             grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
            (stub.ReverseLedgerEntry(lpb.ReverseLedgerEntryRequest(name=names[1])),
             grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await call
        assert (failed.value.code(), error_info(failed.value)[0].reason) == (code, reason)


async def test_a_special_case_is_applied_for_approved_and_listed_over_grpc(
        served: tuple[SettlementApp, grpc.aio.Channel]) -> None:
    app, channel = served
    stub, r = cpb_grpc.SpecialCaseServiceStub(channel), region()
    async with app.new_uow() as uow:
        await uow.session.execute(text(
            "INSERT INTO settlement.settlement_run (run_id, region, period, run_type, policy, weight_table, "
            "feed_sequence, method, cases, hospitals, totals, statements_digest) VALUES (:run, :r, '2026-03', "
            "'advance', 'p', 'w', 1, 'points', 20, 1, '{}', 'd')"), {"run": f"run-{r}", "r": r})
        for i in range(20):
            await uow.session.execute(text(
                "INSERT INTO settlement.case_result (run_id, region, setl_list_id, revision, fixmedins_code, month, "
                "group_code, kind, halved, total_cost, terms) VALUES (:run, :r, :id, 1, :code, '2026-03', 'FM19', "
                "0, false, 100, '{}')"), {"run": f"run-{r}", "r": r, "id": f"L{i:02d}",
                                          "code": H1 if i < 10 else H2})
        await uow.commit()
    policies = spb_grpc.SettlementServiceStub(channel)
    policy = await policies.CreatePolicy(spb.CreatePolicyRequest(parent=f"regions/{r}", policy=spb.Policy(
        year=2026, parameters_json=json.dumps({"method": "points", "weights": {"years": [2025]},
                                               "budget": "100.00", "special_cases": {"cap_share": "0.1"}}))))
    await policies.ActivatePolicy(spb.ActivatePolicyRequest(name=policy.name, approved_by="bureau"))

    applied = await stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(
        parent=f"regions/{r}", special_case=cpb.SpecialCase(setl_list_id="L03", reason="60 days in ICU"),
        request_id="apply-1"))
    assert applied.name == f"regions/{r}/specialCases/L03" and applied.state == cpb.SPECIAL_CASE_STATE_APPLIED
    assert applied.fixmedins_code == H1 and applied.settlement_year.year == 2026
    approved = await stub.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(name=applied.name, note="agreed"))
    assert approved.state == cpb.SPECIAL_CASE_STATE_APPROVED and approved.decision_note == "agreed"
    assert [h.state for h in approved.history] == [cpb.SPECIAL_CASE_STATE_APPLIED, cpb.SPECIAL_CASE_STATE_APPROVED]
    await stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(
        parent=f"regions/{r}", special_case=cpb.SpecialCase(setl_list_id="L12", reason="rare")))
    await stub.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(name=f"regions/{r}/specialCases/L12"))
    await stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(
        parent=f"regions/{r}", special_case=cpb.SpecialCase(setl_list_id="L13", reason="rare")))
    with pytest.raises(grpc.aio.AioRpcError) as over:  # floor(0.1 x 20) = 2
        await stub.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(name=f"regions/{r}/specialCases/L13"))
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(over.value)[0].reason == "SPECIAL_CASE_CAP_REACHED"
    rejected = await stub.RejectSpecialCase(cpb.RejectSpecialCaseRequest(name=f"regions/{r}/specialCases/L13",
                                                                         note="ordinary"))
    assert rejected.state == cpb.SPECIAL_CASE_STATE_REJECTED
    approved_only = await stub.ListSpecialCases(cpb.ListSpecialCasesRequest(
        parent=f"regions/{r}", state=cpb.SPECIAL_CASE_STATE_APPROVED))
    assert [c.setl_list_id for c in approved_only.special_cases] == ["L03", "L12"]
    of_h2 = await stub.ListSpecialCases(cpb.ListSpecialCasesRequest(parent=f"regions/{r}", fixmedins_code=H2))
    assert [c.setl_list_id for c in of_h2.special_cases] == ["L12", "L13"]
    for call, code, reason in (
            (stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(parent=f"regions/{r}", special_case=cpb.SpecialCase(
                setl_list_id="L99", reason="x"))), grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND"),
            (stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(parent=f"regions/{r}", special_case=cpb.SpecialCase(
                setl_list_id="L03", reason="again"))), grpc.StatusCode.ALREADY_EXISTS, "SPECIAL_CASE_EXISTS"),
            (stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(parent=f"regions/{r}", special_case=cpb.SpecialCase(
                setl_list_id="L04", reason="x"), request_id="apply-1")),
             grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED"),
            (stub.ApplySpecialCase(cpb.ApplySpecialCaseRequest(parent=f"regions/{r}", special_case=cpb.SpecialCase(
                setl_list_id="L05"))), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD"),
            (stub.RejectSpecialCase(cpb.RejectSpecialCaseRequest(name=f"regions/{r}/specialCases/L03", note="no")),
             grpc.StatusCode.FAILED_PRECONDITION, "SPECIAL_CASE_NOT_PENDING"),
            (stub.GetSpecialCase(cpb.GetSpecialCaseRequest(name=f"regions/{r}/specialCases/L77")),
             grpc.StatusCode.NOT_FOUND, "SPECIAL_CASE_NOT_FOUND")):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await call
        assert (failed.value.code(), error_info(failed.value)[0].reason) == (code, reason)


async def test_a_hospital_sees_only_its_own_and_decides_nothing(runtime: Runtime,
                                                                served: tuple[SettlementApp, grpc.aio.Channel]) -> None:
    app, _ = served
    r = region()
    run = CompletedRun("m1", f"regions/{r}/settlementRuns/m1", r, "2026-03", "advance",
                       (StatementTotals(H1, 0, 0, 700, 0, 0, 700), StatementTotals(H2, 0, 0, 900, 0, 0, 900)))
    async with app.new_uow() as uow:
        await complete_run(uow, run, (post_completed_run,))
        await uow.session.execute(text(
            "INSERT INTO settlement.settlement_run (run_id, region, period, run_type, policy, weight_table, "
            "feed_sequence, method, cases, hospitals, totals, statements_digest) VALUES (:run, :r, '2026-03', "
            "'advance', 'p', 'w', 1, 'points', 2, 2, '{}', 'd')"), {"run": f"run-{r}", "r": r})
        for list_id, code in (("A1", H1), ("B1", H2)):
            await uow.session.execute(text(
                "INSERT INTO settlement.case_result (run_id, region, setl_list_id, revision, fixmedins_code, month, "
                "group_code, kind, halved, total_cost, terms) VALUES (:run, :r, :id, 1, :code, '2026-03', 'FM19', "
                "0, false, 100, '{}')"), {"run": f"run-{r}", "r": r, "id": list_id, "code": code})
        await uow.commit()
    as_h1 = await start_server(service_spec(app, tenant_of=lambda context: H1), runtime.settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{as_h1.port}") as channel:
            ledger, cases = lpb_grpc.LedgerServiceStub(channel), cpb_grpc.SpecialCaseServiceStub(channel)
            mine = await ledger.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{r}"))
            assert [e.fixmedins_code for e in mine.ledger_entries] == [H1]
            accounts = await ledger.ListLedgerAccounts(lpb.ListLedgerAccountsRequest(parent=f"regions/{r}"))
            assert [a.name.rsplit("/", 1)[1] for a in accounts.ledger_accounts] == [f"{H1}.advances-payable"]
            applied = await cases.ApplySpecialCase(cpb.ApplySpecialCaseRequest(
                parent=f"regions/{r}", special_case=cpb.SpecialCase(setl_list_id="A1", reason="mine")))
            assert applied.history[0].actor == f"hospital:{H1}"
            other_entry = mine.ledger_entries[0].name.rsplit("/", 1)[0] + "/" + str(
                int(mine.ledger_entries[0].name.rsplit("/", 1)[1]) + 1)
            for call, code, reason in (
                    (ledger.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{r}", fixmedins_code=H2)),
                     grpc.StatusCode.PERMISSION_DENIED, "TENANT_MISMATCH"),
                    (ledger.GetLedgerEntry(lpb.GetLedgerEntryRequest(name=other_entry)),
                     grpc.StatusCode.NOT_FOUND, "LEDGER_ENTRY_NOT_FOUND"),
                    (ledger.ReverseLedgerEntry(lpb.ReverseLedgerEntryRequest(name=mine.ledger_entries[0].name,
                                                                             reason="mine")),
                     grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED"),
                    (cases.ApplySpecialCase(cpb.ApplySpecialCaseRequest(
                        parent=f"regions/{r}", special_case=cpb.SpecialCase(setl_list_id="B1", reason="theirs"))),
                     grpc.StatusCode.PERMISSION_DENIED, "TENANT_MISMATCH"),
                    (cases.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(name=applied.name)),
                     grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED"),
                    (cases.RejectSpecialCase(cpb.RejectSpecialCaseRequest(name=applied.name, note="no")),
                     grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")):
                with pytest.raises(grpc.aio.AioRpcError) as failed:
                    await call
                assert (failed.value.code(), error_info(failed.value)[0].reason) == (code, reason)
    finally:
        await as_h1.stop()
