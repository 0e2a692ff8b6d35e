"""Settlement runs over real servers: synthetic lists of three years posted to collection, a weight table
computed from the two base years of the case feed, monthly advances of the settlement year, a list revoked after
its month was advanced and settled as an adjustment in the next month's run, the year-end clearing against the
advances, byte-identical reproduction, idempotent starts, one payment per month, a hospital seeing only its own
statements, and the completion hook inside the run's transaction."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc
from sqlalchemy import text

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition
from libs.common.grpc.server import RunningServer, start_server
from libs.common.money import Money
from libs.common.runtime import Runtime
from services.settlement.adapters.collection_feed import feed_case
from services.settlement.bootstrap import SettlementApp, build_app, service_spec
from services.settlement.domain.cases import History
from services.settlement.domain.collected import with_levels
from services.settlement.domain.policies import GroupScheme
from services.settlement.domain.policy import policy_from_json
from services.settlement.domain.runs import RunInputs, clearing, month_advances
from services.settlement.domain.weights import compute_weights
from services.settlement.service_layer.completion import CompletedRun
from services.settlement.service_layer.unit_of_work import SettlementUnitOfWork
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import ROOT, reference_dir
from .his import his_form, settlement_record
from .lists import own_ids, post_all, scheme_id
from .rpc_errors import error_info

REGION, BASE, YEAR = "330700", (2014, 2015), 2016
"""Years no other test posts lists for, so the feed's cases of them are this module's."""
PARAMS = {"method": "points", "scale": 100,
          "weights": {"years": list(BASE), "year_weights": [1, 2], "trim_percentiles": [1, 99], "min_cases": 2},
          "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {"coefficient": "1.00"}},
          "high_bands": [{"up_to": "100", "k": "3"}, {"k": "2"}], "readmission_days": 15,
          "budget": "3000000.00", "adjustment_share": "0.05", "provisional_point_value": "80",
          "advance_share": "0.9"}


@dataclass
class Posted:
    settlement: pb_grpc.SettlementServiceStub
    operations: operations_pb2_grpc.OperationsStub
    collection: collection_grpc.CollectionServiceStub
    app: SettlementApp
    policy: pb.Policy
    hooked: list[CompletedRun]
    levels: dict[str, int]
    address: str
    http_base: str


@pytest.fixture(scope="module")
async def posted(runtime: Runtime, coding_server: RunningServer, collection_app: Any) -> AsyncIterator[Posted]:
    running_collection, http_base, _ = collection_app
    params = SynthParams(cases=420, year=BASE[0], months=36, hospitals=5, seed=29, scheme=scheme_id(),
                         rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    replies = await post_all(http_base, [request for request, _ in Generator(params, ref).lists()])
    assert sum(r["infcode"] == 0 for r in replies) > 300
    settings = runtime.settings.model_copy(update={"collection_address": f"127.0.0.1:{running_collection.port}"})
    hooked: list[CompletedRun] = []

    async def hook(uow: SettlementUnitOfWork, completed: CompletedRun) -> None:
        assert uow.session.in_transaction()
        hooked.append(completed)

    app = build_app(Runtime(settings), completion_hooks=(hook,))
    running = await start_server(service_spec(app), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as collection:
        stub = pb_grpc.SettlementServiceStub(channel)
        levels = {h.code: h.level for h in ref.hospitals}  # synthetic hospitals: not in the coding registry
        policy = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=pb.Policy(
            year=YEAR, parameters_json=json.dumps(PARAMS), hospital_levels=levels)))
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=policy.name, approved_by="test bureau"))
        yield Posted(stub, operations_pb2_grpc.OperationsStub(channel),
                     collection_grpc.CollectionServiceStub(collection), app, policy, hooked, levels,
                     f"127.0.0.1:{running.port}", http_base)
    await running.stop()


async def wait(posted: Posted, operation: operations_pb2.Operation) -> operations_pb2.Operation:
    done = await posted.operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 120}))
    assert done.done, f"{operation.name} did not finish"
    return done


async def head(posted: Posted) -> int:
    return int((await posted.collection.GetCaseFeed(collection_pb.GetCaseFeedRequest())).head_sequence)


async def feed(posted: Posted, periods: list[Period], sequence: int) -> list[collection_pb.Case]:
    request = collection_pb.StreamCasesRequest(region=REGION, as_of_sequence=sequence,
                                               settlement_periods=[p.to_proto() for p in periods])
    return [c async for m in posted.collection.StreamCases(request) for c in m.cases]


async def statements(posted: Posted, run: str) -> dict[str, pb.HospitalStatement]:
    reply = await posted.settlement.ListHospitalStatements(pb.ListHospitalStatementsRequest(parent=run,
                                                                                            page_size=1000))
    return {s.fixmedins_code: s for s in reply.hospital_statements}


async def start(posted: Posted, period: Period, sequence: int = 0) -> operations_pb2.Operation:
    return await posted.settlement.StartSettlementRun(pb.StartSettlementRunRequest(
        parent=f"regions/{REGION}", settlement_run=pb.SettlementRun(settlement_period=period.to_proto(),
                                                                    case_feed_sequence=sequence)))


async def settled(posted: Posted, period: Period, sequence: int = 0) -> pb.SettlementRun:
    done = await wait(posted, await start(posted, period, sequence))
    assert not done.HasField("error"), done.error
    run = pb.SettlementRun()
    assert done.response.Unpack(run)
    return run


@pytest.fixture(scope="module")
async def weights(posted: Posted) -> pb.WeightTable:
    operation = await posted.settlement.ComputeWeights(pb.ComputeWeightsRequest(
        parent=f"regions/{REGION}", weight_table=pb.WeightTable(year=YEAR)))
    done = await wait(posted, operation)
    assert not done.HasField("error"), done.error
    table = pb.WeightTable()
    assert done.response.Unpack(table)
    return table


async def test_weights_are_formats_weights_of_the_base_years_of_the_feed(posted: Posted,
                                                                          weights: pb.WeightTable) -> None:
    cases = with_levels([feed_case(c) for c in await feed(posted, [Period(y) for y in BASE],
                                                          weights.case_feed_sequence)], posted.levels)
    history = History()
    for case in cases:
        if case.active:
            history.add(case.group(GroupScheme.DRG), int(case.month[:4]), case.hospital_level, case.total_fen)
    expected = compute_weights(history, policy_from_json(PARAMS).weights)
    assert weights.base_cases == len(history) > 200
    assert weights.groups == len(expected.groups) > 0
    listed = await posted.settlement.ListGroupWeights(pb.ListGroupWeightsRequest(parent=weights.name,
                                                                                 page_size=5000))
    assert {g.group: (g.rw, g.standard_cost.fen, g.kept_cases) for g in listed.group_weights} == {
        g.group: (f"{g.rw / 10_000:.4f}", g.standard, g.kept_cases) for g in expected.groups.values()}
    again = await wait(posted, await posted.settlement.ComputeWeights(pb.ComputeWeightsRequest(
        parent=f"regions/{REGION}", weight_table=pb.WeightTable(year=YEAR,
                                                                case_feed_sequence=weights.case_feed_sequence))))
    table = pb.WeightTable()
    again.response.Unpack(table)
    assert (table.name, table.input_digest) == (weights.name, weights.input_digest)
    # The stored table as Get and List show it (List pages by one here), with the figures its run answered.
    stored = await posted.settlement.GetWeightTable(pb.GetWeightTableRequest(name=weights.name))
    answered = pb.WeightTable()
    answered.CopyFrom(weights)
    answered.ClearField("progress")  # the run's progress is the operation's; the stored table has none
    assert stored == answered and stored.HasField("create_time") and stored.state == common_pb2.RUN_STATE_SUCCEEDED
    tables, token = [], ""
    while True:
        page = await posted.settlement.ListWeightTables(pb.ListWeightTablesRequest(
            parent=f"regions/{REGION}", year=YEAR, page_size=1, page_token=token))
        tables += page.weight_tables
        token = page.next_page_token
        if not token:
            break
    assert stored in tables and all(t.year == YEAR for t in tables)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await posted.settlement.GetWeightTable(pb.GetWeightTableRequest(name=f"regions/{REGION}/weightTables/"
                                                                             f"{YEAR}-w999"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def a_stay_of_january_from_the_core_system(posted: Posted) -> tuple[dict[str, Any], str]:
    """One more January stay of the settlement year as a hospital and the core system send it: the list in the
    HIS form, its money in the settlement record. Accepted (ACTIVE) before January is advanced; with its list id."""
    params = SynthParams(cases=420, year=BASE[0], months=36, hospitals=5, seed=29, scheme=scheme_id(),
                         rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    request = next(r for r, truth in Generator(params, ref).lists()
                   if not truth["faults"] and r["input"]["setlinfo"]["setl_end_date"].startswith(f"{YEAR}-01"))
    [request] = own_ids([request], "ADJ")
    request["msgid"] = request["msgid"][:-4] + "7301"
    answer = await posted.collection.UploadSettlementRecords(collection_pb.UploadSettlementRecordsRequest(
        records=[json.dumps(settlement_record(request), ensure_ascii=False).encode()]))
    assert answer.stored_count == 1, answer
    [reply] = await post_all(posted.http_base, [his_form(request)])
    assert reply["infcode"] == 0 and reply["output"]["status"] == "ACTIVE", reply
    return request, reply["output"]["setl_list_id"]


async def test_advances_adjustments_and_clearing(posted: Posted, weights: pb.WeightTable) -> None:
    january, february, march = Period(YEAR, 1), Period(YEAR, 2), Period(YEAR, 3)
    resettled, resettled_id = await a_stay_of_january_from_the_core_system(posted)
    first = await settled(posted, january)
    assert (first.run_type, first.state, first.weight_table) == (pb.SETTLEMENT_RUN_TYPE_ADVANCE,
                                                                 common_pb2.RUN_STATE_SUCCEEDED, weights.name)
    # The advance is FORMAT's, over January's active cases at the pinned sequence.
    cases = with_levels([feed_case(c) for c in await feed(posted, [january], first.case_feed_sequence)],
                        posted.levels)
    table = (await posted.app.weight_tables.get(weights.name)).table
    inputs = RunInputs(policy_from_json(PARAMS), table, GroupScheme.DRG)
    expected = month_advances(inputs, [c for c in cases if c.active])
    got = await statements(posted, first.name)
    assert {h: s.advances.fen for h, s in got.items()} == expected
    assert sum(expected.values()) == first.total_advances.fen == first.total_balance.fen > 0

    got_run = await posted.settlement.GetSettlementRun(pb.GetSettlementRunRequest(name=first.name))
    assert got_run == first  # the run resource: state, progress and totals as the operation answered them
    assert got_run.progress.done == got_run.cases == len([c for c in cases if c.active])
    # The same start again is the same run; January cannot be advanced twice (at another sequence).
    assert (await start(posted, january, first.case_feed_sequence)).name == first.operation
    assert (await start(posted, january)).name == first.operation  # the head has not moved: the same inputs
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await start(posted, january, first.case_feed_sequence - 1)
    assert (twice.value.code(), error_info(twice.value)[0].reason) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                                       "PERIOD_ALREADY_SETTLED")
    second = await settled(posted, february)
    assert all(s.adjustments.fen == 0 for s in (await statements(posted, second.name)).values())

    # After January was advanced, one of its lists is revoked, and the core system revises the settlement record
    # of a stay of another hospital (eight times the cost: a high outlier). The list's revision stays 1, the case
    # changes: both are adjustments in March's run, of those two hospitals only.
    resettled_hospital = resettled["fixmedins_code"]
    gone = next(c for c in cases if c.active and c.hospital != resettled_hospital)
    await posted.collection.RevokeSettlementList(collection_pb.RevokeSettlementListRequest(
        fixmedins_code=gone.hospital, setl_id=next(
            c.setl_id for c in await feed(posted, [january], 0) if c.setl_list_id == gone.list_id),
        reason="settlement test"))
    record = settlement_record(resettled)["setlinfo"]
    total = Decimal(record["medfee_sumamt"]) * 8
    personal = total - Decimal(record["fund_pay_sumamt"])
    revised = settlement_record(resettled, medfee_sumamt=f"{total:.2f}", psn_part_amt=f"{personal:.2f}",
                                psn_cash_pay=f"{personal - Decimal(record['acct_pay']):.2f}")
    answer = await posted.collection.UploadSettlementRecords(collection_pb.UploadSettlementRecordsRequest(
        records=[json.dumps(revised, ensure_ascii=False).encode()]))
    assert answer.results[0].outcome == collection_pb.RECORD_OUTCOME_REVISED, answer
    third = await settled(posted, march)
    assert third.builds_on == [first.name, second.name]
    by_hospital = await statements(posted, third.name)
    now = with_levels([feed_case(c) for c in await feed(posted, [january], third.case_feed_sequence)],
                      posted.levels)
    [before] = [c for c in cases if c.list_id == resettled_id]
    [again] = [c for c in now if c.list_id == resettled_id]
    assert before.active and (again.revision, again.total_fen) == (1, int(total * 100))
    expected_now = month_advances(inputs, [c for c in now if c.active])
    for hospital in (gone.hospital, resettled_hospital):
        [line] = [m for m in by_hospital[hospital].months if m.kind == pb.MONTH_LINE_KIND_ADJUSTMENT]
        assert (line.settlement_month.month, line.amount.fen) == (1, expected_now.get(hospital, 0)
                                                                  - expected[hospital])
        assert by_hospital[hospital].adjustments.fen == line.amount.fen
    assert [m.amount.fen < 0 for h in (gone.hospital, resettled_hospital) for m in by_hospital[h].months
            if m.kind == pb.MONTH_LINE_KIND_ADJUSTMENT] == [True, False]
    assert all(s.adjustments.fen == 0 for h, s in by_hospital.items() if h not in (gone.hospital,
                                                                                   resettled_hospital))

    # The clearing: assessed less what the three runs paid, less deductions.
    year = await settled(posted, Period(YEAR))
    assert year.run_type == pb.SETTLEMENT_RUN_TYPE_CLEARING and year.point_value
    cleared = await statements(posted, year.name)
    paid: dict[str, int] = {}
    for run in (first, second, third):
        for h, s in (await statements(posted, run.name)).items():
            paid[h] = paid.get(h, 0) + s.balance.fen
    for h, s in cleared.items():
        assert s.advances.fen == paid.get(h, 0)
        assert s.balance.fen == s.assessed.fen - s.advances.fen - s.deductions.fen
    assert year.total_balance.fen == sum(s.balance.fen for s in cleared.values())
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await start(posted, Period(YEAR, 4))
    assert error_info(closed.value)[0].reason == "YEAR_ALREADY_CLEARED"

    # Reproducible byte for byte; the hook saw each run once, in its transaction.
    for run in (first, third, year):
        kept, again = await posted.app.settlement.reproduce(run.name.rsplit("/", 1)[1])
        assert kept == again and kept
    assert [c.name for c in posted.hooked] == [first.name, second.name, third.name, year.name]
    assert posted.hooked[-1].statements[0].balance == cleared[posted.hooked[-1].statements[0].fixmedins_code
                                                              ].balance.fen

    # One case, with the terms of its formula.
    some = next(c for c in cases if c.active and c.list_id != gone.list_id)
    case = await posted.settlement.GetCaseSettlement(pb.GetCaseSettlementRequest(
        name=f"{year.name}/caseSettlements/{some.list_id}"))
    assert (case.fixmedins_code, case.group, case.revision) == (some.hospital, some.group(GroupScheme.DRG),
                                                                some.revision)
    assert case.kind != pb.CASE_KIND_UNSPECIFIED and case.points and case.terms["formula"].startswith("points")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await posted.settlement.GetCaseSettlement(pb.GetCaseSettlementRequest(
            name=f"{year.name}/caseSettlements/{gone.list_id}"))
    assert error_info(missing.value)[0].reason == "CASE_NOT_FOUND"

    # Every case of the clearing, page by page, by list id; one hospital's are its statement's cases.
    listed, token = [], ""
    while True:
        page = await posted.settlement.ListCaseSettlements(pb.ListCaseSettlementsRequest(
            parent=year.name, page_size=37, page_token=token))
        listed += page.case_settlements
        token = page.next_page_token
        if not token:
            break
    ids = [c.setl_list_id for c in listed]
    assert ids == sorted(ids) and len(ids) == year.cases and gone.list_id not in ids
    assert case in listed
    one = await posted.settlement.ListCaseSettlements(pb.ListCaseSettlementsRequest(
        parent=year.name, fixmedins_code=some.hospital, page_size=5000))
    assert len(one.case_settlements) == cleared[some.hospital].cases
    assert {c.kind for c in one.case_settlements} <= set(pb.CaseKind.values())


async def test_a_rate_method_year_is_cleared_as_format_says(posted: Posted) -> None:
    """费率法 through the service: a rate policy for 2014 weighted from 2014 itself (a year no other test
    settles), its weights computed, the year cleared without advances: every statement and the run's level rates
    are the domain's clearing of the feed's cases at the run's sequence, and a case shows its standard."""
    params = {"method": "rate", "weights": {"years": [BASE[0]], "trim_percentiles": [1, 99], "min_cases": 2},
              "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {}},
              "rates": {"adjust": "0.98"}, "advance_share": "0.9"}
    policy = await posted.settlement.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=pb.Policy(
        year=BASE[0], parameters_json=json.dumps(params), hospital_levels=posted.levels)))
    done = await wait(posted, await posted.settlement.ComputeWeights(pb.ComputeWeightsRequest(
        parent=f"regions/{REGION}", weight_table=pb.WeightTable(year=BASE[0], policy=policy.name))))
    assert not done.HasField("error"), done.error
    table = pb.WeightTable()
    done.response.Unpack(table)
    operation = await posted.settlement.StartSettlementRun(pb.StartSettlementRunRequest(
        parent=f"regions/{REGION}", settlement_run=pb.SettlementRun(
            settlement_period=Period(BASE[0]).to_proto(), policy=policy.name, weight_table=table.name)))
    finished = await wait(posted, operation)
    assert not finished.HasField("error"), finished.error
    run = pb.SettlementRun()
    finished.response.Unpack(run)
    assert (run.method, run.point_value, run.run_type) == (pb.PAYMENT_METHOD_RATE, "", pb.SETTLEMENT_RUN_TYPE_CLEARING)

    cases = with_levels([feed_case(c) for c in await feed(posted, [Period(BASE[0])], run.case_feed_sequence)],
                        posted.levels)
    stored = (await posted.app.weight_tables.get(table.name)).table
    expected = clearing(RunInputs(policy_from_json(params), stored, GroupScheme.DRG), cases)
    assert expected.rates and {level: rate.fen for level, rate in run.level_rates.items()} == expected.rates
    got = await statements(posted, run.name)
    assert {h: (s.cases, s.gross.fen, s.assessed.fen, s.advances.fen, s.balance.fen, s.surplus.fen, s.points)
            for h, s in got.items()} == {
        s.hospital: (s.cases, s.gross, s.assessed, 0, s.assessed - s.deductions, s.surplus, "")
        for s in expected.statements}
    normal = next(c for c in expected.cases if c.kind.label == "normal")
    case = await posted.settlement.GetCaseSettlement(pb.GetCaseSettlementRequest(
        name=f"{run.name}/caseSettlements/{normal.list_id}"))
    assert (case.kind, case.standard.fen, case.basis.fen, case.points) == (pb.CASE_KIND_NORMAL, normal.standard,
                                                                          normal.standard, "")
    assert case.terms["formula"].startswith("standard = round_2(rw x rate x coefficient)")
    assert case.terms["rate"] in {str(Money.from_proto(rate)) for rate in run.level_rates.values()}


async def test_a_hospital_sees_only_its_own_statements(runtime: Runtime, posted: Posted,
                                                       weights: pb.WeightTable) -> None:
    runs = await posted.settlement.ListSettlementRuns(pb.ListSettlementRunsRequest(parent=f"regions/{REGION}",
                                                                                   year=YEAR))
    assert runs.settlement_runs, "the advances test runs first"
    run = runs.settlement_runs[0]
    every = await statements(posted, run.name)
    mine = sorted(every)[0]
    other = next(c for c in every if c != mine)
    spec = service_spec(posted.app, tenant_of=lambda context: mine)
    spec.on_start = spec.on_stop = None  # the module's app stays open: this server only serves it as a hospital
    running = await start_server(spec, runtime.settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            hospital = pb_grpc.SettlementServiceStub(channel)
            seen = await hospital.ListHospitalStatements(pb.ListHospitalStatementsRequest(parent=run.name))
            assert [s.fixmedins_code for s in seen.hospital_statements] == [mine]
            assert seen.hospital_statements[0] == every[mine]
            async with posted.app.new_uow() as uow:
                list_id = (await uow.session.execute(text(
                    "SELECT setl_list_id FROM settlement.case_result WHERE run_id = :r AND fixmedins_code = :h "
                    "LIMIT 1"), {"r": run.name.rsplit("/", 1)[1], "h": other})).scalar_one()
            with pytest.raises(grpc.aio.AioRpcError) as hidden:  # another's case does not exist for it
                await hospital.GetCaseSettlement(pb.GetCaseSettlementRequest(
                    name=f"{run.name}/caseSettlements/{list_id}"))
            assert (hidden.value.code(), error_info(hidden.value)[0].reason) == (
                grpc.StatusCode.NOT_FOUND, "CASE_NOT_FOUND")
            own = await hospital.ListCaseSettlements(pb.ListCaseSettlementsRequest(parent=run.name,
                                                                                   page_size=5000))
            assert {c.fixmedins_code for c in own.case_settlements} == {mine}
            assert len(own.case_settlements) == every[mine].cases
            with pytest.raises(grpc.aio.AioRpcError) as theirs:
                await hospital.ListCaseSettlements(pb.ListCaseSettlementsRequest(parent=run.name,
                                                                                 fixmedins_code=other))
            assert error_info(theirs.value)[0].reason == "OTHER_HOSPITAL"
    finally:
        await running.stop()


async def test_a_refusing_completion_hook_stores_nothing_of_the_run(runtime: Runtime, posted: Posted) -> None:
    """An imported table for the base year 2015 and a clearing of it whose hook refuses: the run fails with the
    hook's reason and no statement of it exists."""
    async def refuse(uow: SettlementUnitOfWork, completed: CompletedRun) -> None:
        raise FailedPrecondition("the ledger refuses", reason="LEDGER_REFUSED")

    refusing = build_app(runtime, completion_hooks=(refuse,), feed=posted.app.feed)
    running = await start_server(service_spec(refusing), runtime.settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.SettlementServiceStub(channel)
            operations = operations_pb2_grpc.OperationsStub(channel)
            policy = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=pb.Policy(
                year=2015, parameters_json=json.dumps({**PARAMS, "weights": {"years": [2014]}}),
                hospital_levels=posted.levels)))
            cases = [feed_case(c) for c in await feed(posted, [Period(2015, 1)], 0)]
            groups = sorted({c.group(GroupScheme.DRG) for c in cases} - {"0000"})
            table = await stub.ImportWeightTable(pb.ImportWeightTableRequest(
                parent=f"regions/{REGION}", year=2015, avg_all="9000.5", groups=[
                    pb.GroupWeight(group=g, rw="1.0000", standard_cost=common_pb2.Money(fen=900_050))
                    for g in groups]))
            assert (table.source, table.groups, table.avg_all) == (pb.WEIGHT_TABLE_SOURCE_IMPORTED, len(groups),
                                                                   "9000.500000")
            operation = await stub.StartSettlementRun(pb.StartSettlementRunRequest(
                parent=f"regions/{REGION}", settlement_run=pb.SettlementRun(
                    settlement_period=Period(2015, 1).to_proto(), policy=policy.name, weight_table=table.name)))
            done = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
                name=operation.name, timeout={"seconds": 120}))
            assert done.done and done.error.message == "the ledger refuses"
            run = pb.SettlementRun()
            done.metadata.Unpack(run)
            assert run.state == common_pb2.RUN_STATE_FAILED
            with pytest.raises(grpc.aio.AioRpcError) as nothing:
                await stub.ListHospitalStatements(pb.ListHospitalStatementsRequest(parent=run.name))
            assert error_info(nothing.value)[0].reason == "RUN_NOT_FOUND"
    finally:
        await running.stop()
        await refusing.close()


def medpay(posted: Posted, *args: str, terminal: bool = False) -> subprocess.CompletedProcess[str]:
    """The command as a process; ``terminal``: its console believes it writes to an interactive terminal (so
    the progress bar is drawn, as an operator sees it)."""
    env = {**os.environ, "MEDPAY_SETTLEMENT_ADDRESS": posted.address}
    if terminal:
        env |= {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    return subprocess.run([sys.executable, "-m", "services.cli", "settlement", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


async def test_the_command_line_computes_weights_and_settles_a_month(posted: Posted, tmp_path: Path) -> None:
    """`medpay settlement weights|run` against the service: the file's policy (with the synthetic institutions'
    levels) for 2015 from the base year 2014, February 2015 advanced with a progress bar, the same command again
    the same run, and a bad parameter or a file that is not JSON named with the file and exit 2."""
    policy = tmp_path / "params.json"
    policy.write_text(json.dumps({**PARAMS, "weights": {"years": [2014]}}))
    institutions = tmp_path / "institutions.jsonl"
    institutions.write_text("".join(json.dumps({"fixmedins_code": c, "hosp_lv": lv}) + "\n"
                                    for c, lv in posted.levels.items()))
    common = ["--region", REGION, "--year", "2015", "--policy", str(policy), "--institutions", str(institutions)]
    weights = await asyncio.to_thread(medpay, posted, "weights", *common)
    assert weights.returncode == 0, weights.stderr[-2000:]
    assert re.match(r"regions/330700/weightTables/2015-w\d+: \d+ groups from \d+ base-year cases", weights.stdout)
    first = await asyncio.to_thread(medpay, posted, "run", *common, "--month", "2", terminal=True)
    assert first.returncode == 0, first.stderr[-2000:]
    bar = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", first.stderr)  # the bar as drawn, without the terminal codes
    assert re.search(r"settling 2015-02 .*━.* \d+ cases", bar), bar[-2000:]
    digest = re.search(r"statements digest ([0-9a-f]{64})", first.stdout)
    assert digest is not None and "advance" in first.stdout
    # Every statement whole on its line (piped, the table is as wide as it needs, nothing cut short).
    run_name = re.search(r"(regions/330700/settlementRuns/\S+) \(advance\)", first.stdout)
    assert run_name is not None, first.stdout
    for code, statement in (await statements(posted, run_name[1])).items():
        assert re.search(rf"│ {code} .*│ +{re.escape(str(Money.from_proto(statement.balance)))} │",
                         first.stdout), (code, first.stdout)
    again = await asyncio.to_thread(medpay, posted, "run", *common, "--month", "2")
    assert again.returncode == 0 and digest[1] in again.stdout
    policy.write_text(json.dumps({**PARAMS, "levels": {"2": {"high_k": "three"}}}))
    bad = await asyncio.to_thread(medpay, posted, "run", *common, "--month", "3")
    assert bad.returncode == 2 and f"{policy}: levels.2.high_k: " in bad.stderr
    policy.write_text('{"method": "points",\n "scale": 100,,\n}')
    broken = await asyncio.to_thread(medpay, posted, "weights", *common)
    assert broken.returncode == 2 and f"{policy}:2: not JSON" in broken.stderr and "Traceback" not in broken.stderr
    policy.write_text(json.dumps({**PARAMS, "weights": {"years": [2014]}}))
    institutions.write_text("{\"fixmedins_code\": \"H33070000001\"}\n")
    worse = await asyncio.to_thread(medpay, posted, "weights", *common)
    assert worse.returncode == 2 and f"{institutions}:1" in worse.stderr
