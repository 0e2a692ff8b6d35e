"""Settlement runs with the ledger, special cases and the national 3203 over real servers: synthetic lists
posted to collection, a month advanced, a case of it applied for by its hospital and approved by the bureau, the
year cleared with that case settled as special, the ledger's balances equal to the runs' statements (re-running
changes nothing), and a hospital asking for the clearing of a period through the national door."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.settlement.v1 import ledger_pb2 as lpb
from medpay.settlement.v1 import ledger_pb2_grpc as lpb_grpc
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc
from medpay.settlement.v1 import special_cases_pb2 as cpb
from medpay.settlement.v1 import special_cases_pb2_grpc as cpb_grpc
from sqlalchemy import text

from libs.common.dates import Period
from libs.common.grpc.server import RunningServer, start_server
from libs.common.money import fen_text
from libs.common.runtime import Runtime
from services.settlement.bootstrap import SettlementApp, build_app, service_spec
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import free_port, reference_dir
from .lists import post_all, scheme_id

REGION, BASE, YEAR = "330700", (2011, 2012), 2013
"""Years no other test posts lists for, so the feed's cases of them are this module's."""
PARAMS = {"method": "points", "scale": 100,
          "weights": {"years": list(BASE), "year_weights": [1, 2], "min_cases": 2},
          "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {"coefficient": "1.00"}},
          "budget": "2000000.00", "adjustment_share": "0.05", "provisional_point_value": "80",
          "advance_share": "0.9", "special_cases": {"approved": [], "cap_share": "0.2"},
          "hospitals": {}}


@dataclass
class World:
    app: SettlementApp
    settlement: pb_grpc.SettlementServiceStub
    operations: operations_pb2_grpc.OperationsStub
    ledger: lpb_grpc.LedgerServiceStub
    cases: cpb_grpc.SpecialCaseServiceStub
    door: str
    runtime: Runtime


@pytest.fixture(scope="module")
async def world(runtime: Runtime, coding_server: RunningServer, grouping_server: RunningServer,
                collection_app: Any) -> AsyncIterator[World]:
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec

    running_collection, http_base, _ = collection_app
    params = SynthParams(cases=300, year=BASE[0], months=36, hospitals=4, seed=31, scheme=scheme_id(),
                         rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    replies = await post_all(http_base, [request for request, _ in Generator(params, ref).lists()])
    assert sum(r["infcode"] == 0 for r in replies) > 200
    settlement_port, door_address = free_port(), f"127.0.0.1:{free_port()}"
    settings = runtime.settings.model_copy(update={
        "collection_address": f"127.0.0.1:{running_collection.port}",
        "settlement_address": f"127.0.0.1:{settlement_port}",
        "coding_address": f"127.0.0.1:{coding_server.port}", "grouping_address": f"127.0.0.1:{grouping_server.port}"})
    app = build_app(Runtime(settings))  # the default completion hooks: the ledger posts every run
    running = await start_server(service_spec(app), settings, f"127.0.0.1:{settlement_port}")
    door_app = await build_collection(Runtime(settings))  # a door that answers 3203 from this settlement
    door = await start_server(collection_spec(door_app, door_address, "/api/v1/hsa"), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{settlement_port}") as channel:
        stub = pb_grpc.SettlementServiceStub(channel)
        policy = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=pb.Policy(
            year=YEAR, parameters_json=json.dumps(PARAMS), hospital_levels={h.code: h.level for h in ref.hospitals})))
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=policy.name, approved_by="test bureau"))
        world = World(app, stub, operations_pb2_grpc.OperationsStub(channel), lpb_grpc.LedgerServiceStub(channel),
                      cpb_grpc.SpecialCaseServiceStub(channel), f"http://{door_address}/api/v1/hsa", runtime)
        done = await wait(world, await stub.ComputeWeights(pb.ComputeWeightsRequest(
            parent=f"regions/{REGION}", weight_table=pb.WeightTable(year=YEAR))))
        assert not done.HasField("error"), done.error
        yield world
    await door.stop()
    await running.stop()


async def wait(world: World, operation: operations_pb2.Operation) -> operations_pb2.Operation:
    done = await world.operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 180}))
    assert done.done, f"{operation.name} did not finish"
    return done


async def settled(world: World, period: Period) -> pb.SettlementRun:
    done = await wait(world, await world.settlement.StartSettlementRun(pb.StartSettlementRunRequest(
        parent=f"regions/{REGION}", settlement_run=pb.SettlementRun(settlement_period=period.to_proto()))))
    assert not done.HasField("error"), done.error
    run = pb.SettlementRun()
    assert done.response.Unpack(run)
    return run


async def statements(world: World, run: str) -> dict[str, pb.HospitalStatement]:
    reply = await world.settlement.ListHospitalStatements(pb.ListHospitalStatementsRequest(parent=run,
                                                                                           page_size=1000))
    return {s.fixmedins_code: s for s in reply.hospital_statements}


async def balances(world: World) -> dict[str, int]:
    reply = await world.ledger.ListLedgerAccounts(lpb.ListLedgerAccountsRequest(parent=f"regions/{REGION}",
                                                                               page_size=1000))
    return {a.name.rsplit("/", 1)[1]: a.balance.fen for a in reply.ledger_accounts}


async def entries(world: World, run: str) -> list[lpb.LedgerEntry]:
    reply = await world.ledger.ListLedgerEntries(lpb.ListLedgerEntriesRequest(parent=f"regions/{REGION}",
                                                                             settlement_run=run, page_size=1000))
    return list(reply.ledger_entries)


async def as_hospital(world: World, code: str) -> RunningServer:
    spec = service_spec(world.app, tenant_of=lambda context: code)
    spec.on_start = spec.on_stop = None  # the module's app stays open: this server only serves it as a hospital
    return await start_server(spec, world.runtime.settings, "127.0.0.1:0")


async def test_a_special_case_applied_approved_and_settled_and_the_ledger_equals_the_statements(
        world: World) -> None:
    before = await balances(world)  # the region's accounts also carry other modules' runs (review's clearing)
    january = await settled(world, Period(YEAR, 1))
    advanced = await statements(world, january.name)
    posted = await entries(world, january.name)
    assert sorted(e.fixmedins_code for e in posted) == sorted(h for h, s in advanced.items() if s.balance.fen)
    for e in posted:  # each hospital's advance is credited to its advances payable, the fund debited as much
        credit = {ln.account.rsplit("/", 1)[1]: ln.credit.fen for ln in e.lines}
        assert credit[f"{e.fixmedins_code}.advances-payable"] == advanced[e.fixmedins_code].balance.fen
        assert e.total.fen == advanced[e.fixmedins_code].advances.fen + advanced[e.fixmedins_code].adjustments.fen

    async with world.app.new_uow() as uow:
        list_id, hospital = (await uow.session.execute(text(
            "SELECT setl_list_id, fixmedins_code FROM settlement.case_result WHERE run_id = :r AND kind <> 4 "
            "ORDER BY setl_list_id LIMIT 1"), {"r": january.name.rsplit("/", 1)[1]})).one()
    server = await as_hospital(world, hospital)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            applied = await cpb_grpc.SpecialCaseServiceStub(channel).ApplySpecialCase(cpb.ApplySpecialCaseRequest(
                parent=f"regions/{REGION}", special_case=cpb.SpecialCase(setl_list_id=list_id,
                                                                         reason="rare disease, long ICU stay")))
    finally:
        await server.stop()
    assert applied.fixmedins_code == hospital and applied.history[0].actor == f"hospital:{hospital}"
    approved = await world.cases.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(name=applied.name,
                                                                                  note="agreed"))
    assert approved.state == cpb.SPECIAL_CASE_STATE_APPROVED

    year = await settled(world, Period(YEAR))
    case = await world.settlement.GetCaseSettlement(pb.GetCaseSettlementRequest(
        name=f"{year.name}/caseSettlements/{list_id}"))
    assert case.kind == pb.CASE_KIND_SPECIAL
    cleared = await statements(world, year.name)
    assert cleared[hospital].case_kinds["special"] == 1

    now = await balances(world)
    got = {account: fen - before.get(account, 0) for account, fen in now.items()}  # what this test's runs posted
    for code in set(advanced) | set(cleared):
        a, c = advanced.get(code), cleared.get(code)
        assert got.get(f"{code}.advances-payable", 0) == -(a.balance.fen if a else 0)
        assert got.get(f"{code}.clearing-balance", 0) == -(c.balance.fen if c else 0)
        assert got.get(f"{code}.deposits-withheld", 0) == -((c.gross.fen - c.assessed.fen) if c else 0)
    assert got.get("adjustment-fund", 0) == -sum(c.deductions.fen for c in cleared.values())
    assert sum(got.values()) == 0

    again = await settled(world, Period(YEAR))  # the same run key: the finished run, nothing posted twice
    assert again.name == year.name and await balances(world) == now
    assert len(await entries(world, year.name)) == sum(1 for c in cleared.values() if c.gross.fen or c.balance.fen)


def envelope(code: str, data: dict[str, Any], n: int) -> dict[str, Any]:
    return {"infno": "3203", "msgid": f"{code}20140101090000{n:04d}", "mdtrtarea_admvs": REGION,
            "insuplc_admdvs": REGION, "recer_sys_code": "YBXT", "dev_no": "", "dev_safe_info": "", "cainfo": "",
            "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": "D1", "opter_name": "经办",
            "inf_time": "2014-01-01 09:00:00", "fixmedins_code": code, "fixmedins_name": "测试医院", "sign_no": "",
            "input": {"data": data}}


async def test_3203_answers_a_hospitals_clearing_from_the_stored_run(world: World) -> None:
    runs = await world.settlement.ListSettlementRuns(pb.ListSettlementRunsRequest(parent=f"regions/{REGION}",
                                                                                  year=YEAR))
    by_period = {Period.from_proto(r.settlement_period): r for r in runs.settlement_runs}
    assert Period(YEAR) in by_period, "the special-case test clears the year first"
    year, january = by_period[Period(YEAR)], by_period[Period(YEAR, 1)]
    cleared, advanced = await statements(world, year.name), await statements(world, january.name)
    code = sorted(cleared)[0]
    replies = await post_all(world.door, [
        envelope(code, {"clr_ym": str(YEAR), "clr_type": "21", "fund_appy_sum": "1000.00"}, 1),
        envelope(code, {"clr_ym": f"{YEAR}01"}, 2),
        envelope(code, {"begndate": f"{YEAR}-01-01", "enddate": f"{YEAR}-01-31"}, 3),
        envelope(code, {"clr_ym": f"{YEAR}06"}, 4),
        envelope(code, {"begndate": f"{YEAR}-01-01", "enddate": f"{YEAR}-02-15"}, 5),
        envelope(code, {"clr_ym": "2013-13"}, 6),
        envelope("H33070399999", {"clr_ym": str(YEAR)}, 7),
        envelope("H99990399999", {"clr_ym": str(YEAR)}, 8)])
    whole, month, by_dates, not_run, ragged, bad, stranger, elsewhere = replies
    assert whole["infcode"] == 0, whole["err_msg"]
    info = whole["output"]["clrinfo"]
    s = cleared[code]
    assert (info["setl_run"], info["setl_run_type"], info["clr_ym"], info["clr_type"]) == (
        year.name, "clearing", str(YEAR), "21")
    assert (info["gross"], info["assessed"], info["advances"], info["deductions"], info["balance"]) == (
        fen_text(s.gross.fen), fen_text(s.assessed.fen), fen_text(s.advances.fen), fen_text(s.deductions.fen),
        fen_text(s.balance.fen))
    assert info["appy_diff"] == fen_text(100_000 - s.balance.fen) and info["point_value"] == year.point_value
    assert month["infcode"] == 0 and month["output"]["clrinfo"]["setl_run"] == january.name
    assert month["output"]["clrinfo"]["advances"] == fen_text(advanced[code].advances.fen)
    assert by_dates["output"] == month["output"]
    assert not_run["infcode"] == -1 and f"{YEAR}-06" in not_run["err_msg"]
    assert ragged["infcode"] == -1 and "begndate" in ragged["err_msg"]
    assert bad["infcode"] == -1 and "clr_ym" in bad["err_msg"]
    assert stranger["infcode"] == -1 and "no cases of H33070399999" in stranger["err_msg"]
    assert elsewhere["infcode"] == -1 and "region 999900" in elsewhere["err_msg"]
