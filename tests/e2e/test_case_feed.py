"""The case feed over a real collection server: every change is an event carrying the whole case, in one strictly
increasing sequence, resumable from any cursor; the as-of read reproduces the cases at a pinned sequence."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.type import date_pb2
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from libs.common.dates import Period
from services.collection.service_layer.regroup import regroup

from .lists import fresh, post_all, scheme_id
from .rpc_errors import error_info

App = tuple[Any, str, Any]


@pytest.fixture
async def stub(collection_app: App) -> AsyncIterator[pb_grpc.CollectionServiceStub]:
    running, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.CollectionServiceStub(channel)


def upload_of(request: dict[str, Any], fixmedins_code: str = "") -> pb.UploadSettlementListRequest:
    return pb.UploadSettlementListRequest(upload=pb.SettlementListUpload(
        fixmedins_code=fixmedins_code or request["fixmedins_code"], fixmedins_name=request["fixmedins_name"],
        input_json=json.dumps(request["input"], ensure_ascii=False).encode()))


async def head(stub: pb_grpc.CollectionServiceStub) -> int:
    return (await stub.GetCaseFeed(pb.GetCaseFeedRequest())).head_sequence


async def events_after(stub: pb_grpc.CollectionServiceStub, region: str, after: int) -> list[pb.CaseEvent]:
    return [e async for m in stub.StreamCaseEvents(pb.StreamCaseEventsRequest(region=region, after_sequence=after))
            for e in m.events]


async def cases_at(stub: pb_grpc.CollectionServiceStub, region: str, periods: list[str],
                   as_of: int) -> dict[str, pb.Case]:
    return {c.setl_list_id: c async for m in stub.StreamCases(pb.StreamCasesRequest(
        region=region, settlement_periods=[Period.parse(p).to_proto() for p in periods], as_of_sequence=as_of))
        for c in m.cases}


def region_of(request: dict[str, Any]) -> str:
    return str(request["fixmedins_code"][1:5]) + "00"


def fen(text: Any) -> int:
    return int(Decimal(str(text)) * 100)


def day(text: str) -> tuple[int, int, int]:
    d = date.fromisoformat(text[:10])
    return d.year, d.month, d.day


def assert_case_is_the_list(case: pb.Case, request: dict[str, Any], reply: pb.UploadSettlementListResponse) -> None:
    """Field by field against the uploaded request, computed here independently of the service's code."""
    s = request["input"]["setlinfo"]
    dx = request["input"]["diseinfo"]
    px = request["input"]["oprninfo"]
    assert case.setl_list_id == reply.setl_list_id and case.revision == reply.revision
    assert case.status == pb.LIST_STATUS_ACTIVE
    assert case.fixmedins_code == request["fixmedins_code"] and case.region == region_of(request)
    assert str(Period.from_proto(case.settlement_month)) == s["setl_end_date"][:7]
    assert (case.setl_id, case.psn_no, case.mdtrt_id) == (s["setl_id"], s["psn_no"], s["mdtrt_id"])
    admitted, discharged = day(s["adm_time"]), day(s["dscg_time"])
    assert (case.admission_date.year, case.admission_date.month, case.admission_date.day) == admitted
    assert (case.discharge_date.year, case.discharge_date.month, case.discharge_date.day) == discharged
    assert case.los_days == max((date(*discharged) - date(*admitted)).days, 1)
    assert case.discharge_way == s["dscg_way"] and case.department == s["dscg_caty"]
    assert case.attending_doctor == s["chfpdr_code"]
    assert case.sex == {"1": pb.SEX_MALE, "2": pb.SEX_FEMALE}[str(s["gend"])]
    assert case.age_years == int(s["age"])
    assert case.HasField("age_days") == (s.get("nwb_age") is not None)
    principal = [d["diag_code"] for d in dx if str(d["maindiag_flag"]) == "1"]
    assert list(case.diagnosis_codes) == principal + [d["diag_code"] for d in dx if str(d["maindiag_flag"]) != "1"]
    main_px = [p["oprn_oprt_code"] for p in px if str(p["oprn_oprt_type"]) == "1"]
    assert list(case.procedure_codes) == main_px + [p["oprn_oprt_code"] for p in px
                                                    if str(p["oprn_oprt_type"]) != "1"]
    assert len(case.groups) == 1
    group = case.groups[0]
    assert (group.scheme_id, group.scheme_version, group.code, group.adrg, group.mdc) == (
        reply.case_group.scheme_id, reply.case_group.scheme_version, reply.case_group.code, reply.case_group.adrg,
        reply.case_group.mdc)
    assert group.kind == pb.GROUP_KIND_DRG
    assert case.total_cost.fen == sum(fen(i["amt"]) for i in request["input"]["iteminfo"])
    assert case.fund_paid.fen == sum(fen(p["fund_payamt"]) for p in request["input"]["payinfo"])
    assert case.personal_paid.fen == fen(s["acct_pay"]) + fen(s["psn_cashpay"])
    assert case.insurance_type == s["insutype"] and case.money_source == pb.MONEY_SOURCE_LIST


async def test_every_change_is_one_event_with_the_whole_case(stub: pb_grpc.CollectionServiceStub,
                                                             collection_app: App) -> None:
    rows = [r for r, t in fresh(seed=141, cases=60) if not t["faults"]][:24]
    region, period = region_of(rows[0]), rows[0]["input"]["setlinfo"]["setl_end_date"][:7]
    rows = [r for r in rows if region_of(r) == region and r["input"]["setlinfo"]["setl_end_date"][:7] == period]
    start = await head(stub)
    replies = [await stub.UploadSettlementList(upload_of(r)) for r in rows]
    first, second = replies[0].setl_list_id, replies[1].setl_list_id
    await stub.RevokeSettlementList(pb.RevokeSettlementListRequest(name=f"settlementLists/{first}",
                                                                   reason="feed test"))
    await stub.RevokeSettlementList(pb.RevokeSettlementListRequest(  # no change: no event
        name=f"settlementLists/{first}", reason="again"))
    await stub.RestoreSettlementList(pb.RestoreSettlementListRequest(name=f"settlementLists/{first}",
                                                                     reason="feed test"))
    revised = copy.deepcopy(rows[1])
    revised["input"]["setlinfo"]["chfpdr_code"] = rows[2]["input"]["setlinfo"]["chfpdr_code"]
    revision = await stub.UploadSettlementList(upload_of(revised))
    _, _, app = collection_app
    other = next((s for s in ("chs-drg-1.0", "chs-drg-1.1") if s != scheme_id()), scheme_id())
    if other not in await app.grouping.schemes():
        other = scheme_id()
    await regroup(app.new_uow, app.grouping, region=region, period=period, scheme_id=other)

    events = await events_after(stub, region, start)
    sequences = [e.sequence for e in events]
    assert sequences == sorted(set(sequences)) and sequences[0] > start
    mine = {r.setl_list_id for r in replies}
    by_list: dict[str, list[pb.CaseEvent]] = {}
    for e in events:
        if e.case.setl_list_id in mine:
            by_list.setdefault(e.case.setl_list_id, []).append(e)
    T = pb.CaseEventType
    assert [e.type for e in by_list[first]] == [T.CASE_EVENT_TYPE_ACCEPTED, T.CASE_EVENT_TYPE_REVOKED,
                                                T.CASE_EVENT_TYPE_REACTIVATED, T.CASE_EVENT_TYPE_REGROUPED]
    assert [e.type for e in by_list[second]] == [T.CASE_EVENT_TYPE_ACCEPTED, T.CASE_EVENT_TYPE_REVISED,
                                                 T.CASE_EVENT_TYPE_REGROUPED]
    for request, reply in zip(rows, replies, strict=True):
        accepted = by_list[reply.setl_list_id][0]
        assert_case_is_the_list(accepted.case, request, reply)
        regrouped = by_list[reply.setl_list_id][-1]
        assert regrouped.type == T.CASE_EVENT_TYPE_REGROUPED
        assert regrouped.case.groups[0].scheme_id == other
        assert {g.scheme_id for g in regrouped.case.groups} == {reply.case_group.scheme_id, other}
    revoked = by_list[first][1].case
    assert revoked.status == pb.LIST_STATUS_REVOKED
    assert_same_case_but(revoked, by_list[first][0].case, "status")
    revised_case = by_list[second][1].case
    assert revised_case.revision == 2 == revision.revision
    assert revised_case.attending_doctor == revised["input"]["setlinfo"]["chfpdr_code"]
    assert_case_is_the_list(revised_case, revised, revision)

    # Resuming from any cursor gives exactly the rest, and the stored cursor of the last message the end.
    middle = sequences[len(sequences) // 2]
    assert [e.sequence for e in await events_after(stub, region, middle)] == [s for s in sequences if s > middle]
    messages = [m async for m in stub.StreamCaseEvents(pb.StreamCaseEventsRequest(region=region,
                                                                                  after_sequence=start))]
    assert messages[-1].resume_after_sequence >= sequences[-1]
    assert await events_after(stub, region, messages[-1].resume_after_sequence) == []


def assert_same_case_but(a: pb.Case, b: pb.Case, *fields: str) -> None:
    x, y = pb.Case(), pb.Case()
    x.CopyFrom(a)
    y.CopyFrom(b)
    for name in fields:
        x.ClearField(name)
        y.ClearField(name)
    assert x == y


async def test_as_of_read_reproduces_a_pinned_sequence(stub: pb_grpc.CollectionServiceStub) -> None:
    rows = [r for r, t in fresh(seed=142, cases=40) if not t["faults"]][:10]
    region, period = region_of(rows[0]), rows[0]["input"]["setlinfo"]["setl_end_date"][:7]
    rows = [r for r in rows if region_of(r) == region and r["input"]["setlinfo"]["setl_end_date"][:7] == period]
    replies = [await stub.UploadSettlementList(upload_of(r)) for r in rows]
    pinned = await head(stub)
    before = await cases_at(stub, region, [period], pinned)
    await stub.RevokeSettlementList(pb.RevokeSettlementListRequest(name=replies[0].name))
    # A revision moving a list to the next settlement period leaves this period's read at the new head.
    moved = copy.deepcopy(rows[1])
    end = date.fromisoformat(moved["input"]["setlinfo"]["setl_end_date"])
    later = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    moved["input"]["setlinfo"]["setl_end_date"] = later.isoformat()
    await stub.UploadSettlementList(upload_of(moved))
    now = await head(stub)
    after = await cases_at(stub, region, [period], now)
    assert {r.setl_list_id for r in replies} <= before.keys()
    assert before[replies[0].setl_list_id].status == pb.LIST_STATUS_ACTIVE
    assert after[replies[0].setl_list_id].status == pb.LIST_STATUS_REVOKED
    assert replies[1].setl_list_id not in after
    next_period = await cases_at(stub, region, [later.isoformat()[:7]], now)
    assert next_period[replies[1].setl_list_id].revision == 2
    assert await cases_at(stub, region, [period], pinned) == before  # reproducible
    at_head = [m async for m in stub.StreamCases(pb.StreamCasesRequest(
        region=region, settlement_periods=[Period.parse(period).to_proto()]))]
    year = await cases_at(stub, region, [period[:4]], now)  # a year stands for its twelve months
    assert after.items() <= year.items()
    assert at_head[0].as_of_sequence >= now
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cases_at(stub, region, [period], now + 10_000_000)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[0].reason == "FEED_SEQUENCE_AHEAD"


async def test_a_follower_sees_concurrent_uploads_once_and_in_order(stub: pb_grpc.CollectionServiceStub,
                                                                    collection_app: App) -> None:
    _, base, _ = collection_app
    requests = [r for r, t in fresh(seed=143, cases=80) if not t["faults"]]
    region = region_of(requests[0])
    stays = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"]) for r in requests if region_of(r) == region}
    start = await head(stub)
    seen: list[pb.CaseEvent] = []
    call = stub.StreamCaseEvents(pb.StreamCaseEventsRequest(region=region, after_sequence=start, follow=True))

    async def follow() -> None:
        async for message in call:
            seen.extend(message.events)
            if stays <= {(e.case.fixmedins_code, e.case.setl_id) for e in seen}:
                return

    follower = asyncio.create_task(follow())
    replies = await post_all(base, requests, concurrency=16)
    assert all(r["infcode"] == 0 for r in replies)
    await asyncio.wait_for(follower, timeout=60)
    call.cancel()
    sequences = [e.sequence for e in seen]
    assert sequences == sorted(set(sequences))
    accepted = [(e.case.fixmedins_code, e.case.setl_id) for e in seen if e.type == pb.CASE_EVENT_TYPE_ACCEPTED
                and (e.case.fixmedins_code, e.case.setl_id) in stays]
    assert sorted(accepted) == sorted(stays)


async def test_hospital_level_comes_from_the_institution_registry(stub: pb_grpc.CollectionServiceStub) -> None:
    request = next(r for r, t in fresh(seed=144, cases=30) if not t["faults"])
    registered = "H33070300089"  # level 3 in the institution registry (the bundled sample)
    start = await head(stub)
    reply = await stub.UploadSettlementList(upload_of(request, registered))
    unknown = await stub.UploadSettlementList(upload_of(request))
    events = {e.case.setl_list_id: e.case for e in await events_after(stub, "330700", start)}
    assert events[reply.setl_list_id].hospital_level == 3
    assert events[unknown.setl_list_id].hospital_level == 0


@pytest.mark.parametrize(("request_", "field"), [
    (pb.StreamCaseEventsRequest(region="3307"), "region"),
    (pb.StreamCaseEventsRequest(region="330700", after_sequence=-1), "after_sequence"),
    (pb.StreamCaseEventsRequest(region="330700", settlement_periods=[date_pb2.Date(year=2026, month=13)]),
     "settlement_periods[0]"),
    (pb.StreamCaseEventsRequest(region="330700", settlement_periods=[date_pb2.Date(year=2026, month=3, day=1)]),
     "settlement_periods[0]"),
])
async def test_bad_feed_requests_name_their_field(stub: pb_grpc.CollectionServiceStub,
                                                  request_: pb.StreamCaseEventsRequest, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        [m async for m in stub.StreamCaseEvents(request_)]
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[1].field_violations[0].field == field
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        [m async for m in stub.StreamCases(pb.StreamCasesRequest(region="330700"))]
    assert error_info(caught.value)[1].field_violations[0].field == "settlement_periods"


@pytest.fixture
async def isolated(runtime: Any, coding_server: Any, grouping_server: Any, server_root: Any
                   ) -> AsyncIterator[tuple[pb_grpc.CollectionServiceStub, str, str]]:
    """A collection service over a database of its own: its feed holds exactly what a test puts in it."""
    from pydantic import SecretStr

    from libs.common.db.migrate import upgrade_service
    from libs.common.grpc.server import start_server
    from libs.common.runtime import Runtime
    from services.collection.bootstrap import build_app, service_spec

    from ..support import create_database, drop_database, free_port, server_url

    admin = server_url(server_root)
    url, name = await create_database(admin)
    await asyncio.to_thread(upgrade_service, "collection", url)
    settings = runtime.settings.model_copy(update={
        "database_url": SecretStr(url), "coding_address": f"127.0.0.1:{coding_server.port}",
        "grouping_address": f"127.0.0.1:{grouping_server.port}"})
    app = await build_app(Runtime(settings))
    http = f"127.0.0.1:{free_port()}"
    running = await start_server(service_spec(app, http, "/api/v1/hsa"), settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield pb_grpc.CollectionServiceStub(channel), f"http://{http}/api/v1/hsa", url
    finally:
        await running.stop()
        await drop_database(admin, name)


async def test_the_feed_of_an_isolated_database_is_exactly_what_was_stored(
        isolated: tuple[pb_grpc.CollectionServiceStub, str, str]) -> None:
    """Rich lists (money from the list) and HIS-form lists with their records (money from the record): the
    feed from 0 holds one ACCEPTED event per list and nothing else, and StreamCases returns exactly these cases,
    field by field as uploaded, as stored (GetSettlementList) and as the records say."""
    from .his import his_form, settlement_record

    stub, base, _ = isolated
    rows = [r for r, t in fresh(seed=145, cases=60) if not t["faults"]][:20]
    region, period = region_of(rows[0]), rows[0]["input"]["setlinfo"]["setl_end_date"][:7]
    rows = [r for r in rows if region_of(r) == region and r["input"]["setlinfo"]["setl_end_date"][:7] == period]
    rich, his = rows[: len(rows) // 2], rows[len(rows) // 2:]
    replies = {r["input"]["setlinfo"]["setl_id"]: await stub.UploadSettlementList(upload_of(r)) for r in rich}
    await post_all(base, [his_form(r) for r in his])
    await stub.UploadSettlementRecords(pb.UploadSettlementRecordsRequest(
        records=[json.dumps(settlement_record(r), ensure_ascii=False).encode() for r in his]))

    events = await events_after(stub, region, 0)
    assert [e.type for e in events] == [pb.CASE_EVENT_TYPE_ACCEPTED] * len(rows)
    assert [e.sequence for e in events] == list(range(1, len(rows) + 1))
    cases = await cases_at(stub, region, [period], 0)
    assert cases == {e.case.setl_list_id: e.case for e in events}
    for request in rich:
        reply = replies[request["input"]["setlinfo"]["setl_id"]]
        assert_case_is_the_list(cases[reply.setl_list_id], request, reply)
    for request in his:
        stored = (await stub.GetSettlementList(pb.GetSettlementListRequest(
            fixmedins_code=request["fixmedins_code"], setl_id=request["input"]["setlinfo"]["setl_id"]))
                  )
        case = cases[stored.setl_list_id]
        record = settlement_record(request)["setlinfo"]
        assert (case.revision, case.status, case.money_source) == (1, pb.LIST_STATUS_ACTIVE,
                                                                   pb.MONEY_SOURCE_SETTLEMENT_RECORD)
        assert (case.groups[0].code, case.groups[0].scheme_id) == (stored.case_group.code, stored.case_group.scheme_id)
        assert (case.total_cost.fen, case.fund_paid.fen, case.personal_paid.fen) == (
            fen(record["medfee_sumamt"]), fen(record["fund_pay_sumamt"]), fen(record["psn_part_amt"]))
        assert case.sex == {"1": pb.SEX_MALE, "2": pb.SEX_FEMALE}[record["gend"]]
        assert case.insurance_type == record["insutype"] and case.psn_no == record["psn_no"]
        assert case.mdtrt_id == request["input"]["setlinfo"]["mdtrt_id"]
