"""Settlement records from the core system and the lists hospitals send, over real servers, in both orders:
a list without its record waits (PENDING) and is checked and grouped the moment the record arrives; a record
without its list waits for it; revisions regroup, reversals send the case back to waiting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from libs.common.runtime import Runtime
from services.grouping.bootstrap import build_registry

from ..support import case_of
from .his import his_form, reversal, settlement_record
from .lists import fresh, own_ids, post_all, scheme_id
from .rpc_errors import error_info

App = tuple[Any, str, Any]
T = pb.CaseEventType


@pytest.fixture
async def stub(collection_app: App) -> AsyncIterator[pb_grpc.CollectionServiceStub]:
    running, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.CollectionServiceStub(channel)


def clean(seed: int, cases: int, count: int) -> list[dict[str, Any]]:
    return own_ids([r for r, t in fresh(seed=seed, cases=cases) if not t["faults"]][:count], f"R{seed}")


async def send_records(stub: pb_grpc.CollectionServiceStub, lines: list[dict[str, Any]],
                       request_id: str = "") -> pb.UploadSettlementRecordsResponse:
    return await stub.UploadSettlementRecords(pb.UploadSettlementRecordsRequest(
        request_id=request_id, records=[json.dumps(line, ensure_ascii=False).encode() for line in lines]))


async def get(stub: pb_grpc.CollectionServiceStub, request: dict[str, Any]) -> pb.SettlementList:
    return (await stub.GetSettlementList(pb.GetSettlementListRequest(
        fixmedins_code=request["fixmedins_code"], setl_id=request["input"]["setlinfo"]["setl_id"])))


async def head(stub: pb_grpc.CollectionServiceStub) -> int:
    return (await stub.GetCaseFeed(pb.GetCaseFeedRequest())).head_sequence


async def events_of(stub: pb_grpc.CollectionServiceStub, after: int,
                    requests: list[dict[str, Any]]) -> dict[str, list[pb.CaseEvent]]:
    """The feed events after ``after`` of these stays, by setl_id."""
    wanted = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"]) for r in requests}
    out: dict[str, list[pb.CaseEvent]] = {}
    for region in {r["fixmedins_code"][1:5] + "00" for r in requests}:
        async for message in stub.StreamCaseEvents(pb.StreamCaseEventsRequest(region=region, after_sequence=after)):
            for e in message.events:
                if (e.case.fixmedins_code, e.case.setl_id) in wanted:
                    out.setdefault(e.case.setl_id, []).append(e)
    return out


async def waiting(stub: pb_grpc.CollectionServiceStub, kind: int, requests: list[dict[str, Any]]) -> set[str]:
    """setl_ids of these stays that wait (as lists or as records), over every page."""
    wanted = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"]) for r in requests}
    found, token = set(), ""
    while True:
        page = await stub.ListPendingItems(pb.ListPendingItemsRequest(kinds=[kind], page_size=50, page_token=token))
        found |= {i.setl_id for i in page.pending_items if (i.fixmedins_code, i.setl_id) in wanted}
        token = page.next_page_token
        if not token:
            return found


def fen(text: str) -> int:
    return int(Decimal(text) * 100)


async def test_lists_before_their_records_wait_then_are_grouped_when_the_records_arrive(
        stub: pb_grpc.CollectionServiceStub, collection_app: App, runtime: Runtime) -> None:
    _, base, _ = collection_app
    rows = clean(seed=151, cases=60, count=16)
    start = await head(stub)
    replies = await post_all(base, [his_form(r) for r in rows])
    assert all(r["infcode"] == 0 and r["output"]["status"] == "PENDING" and not r["output"]["drg"] for r in replies)
    assert [(await get(stub, r)).status for r in rows] == [pb.LIST_STATUS_PENDING] * len(rows)
    assert await waiting(stub, pb.PENDING_KIND_LIST, rows) == {r["input"]["setlinfo"]["setl_id"] for r in rows}
    assert await events_of(stub, start, rows) == {}  # not a case yet: nothing in the feed

    answer = await send_records(stub, [settlement_record(r) for r in rows])
    assert [r.outcome for r in answer.results] == [pb.RECORD_OUTCOME_CREATED] * len(rows)
    assert answer.stored_count == len(rows)
    registry = build_registry(runtime)
    events = await events_of(stub, start, rows)
    for request in rows:
        stored = await get(stub, request)
        assert stored.status == pb.LIST_STATUS_ACTIVE
        expected = registry.group(scheme_id(), [case_of(request["input"])])[0]
        assert stored.case_group.code == expected.drg  # grouped as the rich list groups: the record's person
        [event] = events[request["input"]["setlinfo"]["setl_id"]]
        record = settlement_record(request)["setlinfo"]
        assert event.type == T.CASE_EVENT_TYPE_ACCEPTED and event.case.status == pb.LIST_STATUS_ACTIVE
        assert event.case.money_source == pb.MONEY_SOURCE_SETTLEMENT_RECORD
        assert event.case.total_cost.fen == fen(record["medfee_sumamt"])
        assert event.case.fund_paid.fen == fen(record["fund_pay_sumamt"])
        assert event.case.personal_paid.fen == fen(record["psn_part_amt"])
        assert event.case.insurance_type == record["insutype"]
        assert event.case.groups[0].code == expected.drg
    assert await waiting(stub, pb.PENDING_KIND_LIST, rows) == set()


async def test_records_before_their_lists_wait_and_the_lists_are_grouped_on_arrival(
        stub: pb_grpc.CollectionServiceStub, collection_app: App) -> None:
    _, base, _ = collection_app
    rows = clean(seed=152, cases=60, count=12)
    await send_records(stub, [settlement_record(r) for r in rows])
    assert await waiting(stub, pb.PENDING_KIND_RECORD, rows) == {r["input"]["setlinfo"]["setl_id"] for r in rows}
    replies = await post_all(base, [his_form(r) for r in rows])
    assert all(r["infcode"] == 0 and r["output"]["status"] == "ACTIVE" and r["output"]["drg"] for r in replies)
    assert await waiting(stub, pb.PENDING_KIND_RECORD, rows) == set()
    assert [(await get(stub, r)).status for r in rows] == [pb.LIST_STATUS_ACTIVE] * len(rows)
    # 4103 answers with the person and the funds of the stay's settlement record, which the list lacks.
    request = rows[0]
    s = request["input"]["setlinfo"]
    query = {**request, "infno": "4103", "msgid": request["msgid"][:-4] + "9999",
             "input": {"data": {"psn_no": s["psn_no"], "setl_id": s["setl_id"]}}}
    [answer] = await post_all(base, [query])
    record = settlement_record(request)
    assert answer["infcode"] == 0, answer
    assert {k: answer["output"]["setlinfo"][k] for k in ("gend", "brdy", "insutype", "medfee_sumamt")} == {
        k: record["setlinfo"][k] for k in ("gend", "brdy", "insutype", "medfee_sumamt")}
    assert answer["output"]["payinfo"] == record["setldetail"]


async def test_a_revised_record_regroups_and_a_reversal_sends_the_case_back_to_waiting(
        stub: pb_grpc.CollectionServiceStub, collection_app: App) -> None:
    _, base, _ = collection_app
    [request] = clean(seed=153, cases=30, count=1)
    await send_records(stub, [settlement_record(request)])
    await post_all(base, [his_form(request)])
    start = await head(stub)

    again = await send_records(stub, [settlement_record(request)], request_id="rec-153-a")
    assert again.results[0].outcome == pb.RECORD_OUTCOME_UNCHANGED and again.unchanged_count == 1
    assert await send_records(stub, [settlement_record(request)], request_id="rec-153-a") == again  # a replay
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await send_records(stub, [reversal(request)], request_id="rec-153-a")
    assert error_info(caught.value)[0].reason == "REQUEST_ID_REUSED"

    record = settlement_record(request)
    born = request["input"]["setlinfo"]["brdy"]
    older = int(request["input"]["setlinfo"]["age"]) + 1  # the record corrects the birth date a year earlier
    revised = settlement_record(request, brdy=f"{int(born[:4]) - 1}{born[4:]}", age=f"{older}.0",
                                psn_name="更正姓名")
    [result] = (await send_records(stub, [revised])).results
    assert (result.outcome, result.revision) == (pb.RECORD_OUTCOME_REVISED, 2)
    [result] = (await send_records(stub, [reversal(request)])).results
    assert (result.outcome, result.revision) == (pb.RECORD_OUTCOME_REVERSED, 3)
    assert (await get(stub, request)).status == pb.LIST_STATUS_PENDING
    assert (await send_records(stub, [reversal(request)])).results[0].outcome == pb.RECORD_OUTCOME_UNCHANGED
    resettled = settlement_record(request, acct_pay="0.00", psn_cash_pay=record["setlinfo"]["psn_part_amt"])
    [result] = (await send_records(stub, [resettled])).results
    assert (result.outcome, result.revision) == (pb.RECORD_OUTCOME_REVISED, 4)
    stored = await get(stub, request)
    assert stored.status == pb.LIST_STATUS_ACTIVE and stored.revision == 1

    events = (await events_of(stub, start, [request]))[request["input"]["setlinfo"]["setl_id"]]
    assert [(e.type, e.case.status) for e in events] == [
        (T.CASE_EVENT_TYPE_RECORD_CHANGED, pb.LIST_STATUS_ACTIVE),  # revision 2: regrouped with the new person
        (T.CASE_EVENT_TYPE_RECORD_CHANGED, pb.LIST_STATUS_PENDING),  # reversed: not payable
        (T.CASE_EVENT_TYPE_RECORD_CHANGED, pb.LIST_STATUS_ACTIVE)]  # settled anew
    assert events[0].case.age_years == older
    assert events[2].case.personal_paid.fen == fen(record["setlinfo"]["psn_part_amt"])
    assert [e.sequence for e in events] == sorted(e.sequence for e in events)


async def test_lines_that_are_not_records_are_refused_with_the_reason(stub: pb_grpc.CollectionServiceStub) -> None:
    [request] = clean(seed=154, cases=30, count=1)
    good = settlement_record(request)
    answer = await stub.UploadSettlementRecords(pb.UploadSettlementRecordsRequest(records=[
        b"{not json", json.dumps({**good, "infno": "2303"}).encode(), json.dumps(good).encode(),
        json.dumps(settlement_record(request, medfee_sumamt="1.234")).encode()]))
    outcomes = [(r.outcome, r.error.split(":")[0]) for r in answer.results]
    assert outcomes == [(pb.RECORD_OUTCOME_REFUSED, "not JSON"), (pb.RECORD_OUTCOME_REFUSED, "infno"),
                        (pb.RECORD_OUTCOME_CREATED, ""), (pb.RECORD_OUTCOME_REFUSED, "setlinfo.medfee_sumamt")]
    assert (answer.stored_count, answer.refused_count) == (1, 3)


async def test_a_stream_of_record_batches_is_answered_batch_by_batch(stub: pb_grpc.CollectionServiceStub) -> None:
    rows = clean(seed=155, cases=40, count=6)

    async def batches() -> AsyncIterator[pb.StreamSettlementRecordsRequest]:
        for part in (rows[:2], rows[2:]):
            yield pb.StreamSettlementRecordsRequest(batch=pb.UploadSettlementRecordsRequest(
                records=[json.dumps(settlement_record(r)).encode() for r in part]))

    answers = [a async for a in stub.StreamSettlementRecords(batches())]
    assert [len(a.results.results) for a in answers] == [2, 4]
    assert all(r.outcome == pb.RECORD_OUTCOME_CREATED for a in answers for r in a.results.results)


async def test_pending_items_page_and_refuse_forged_tokens(stub: pb_grpc.CollectionServiceStub) -> None:
    rows = clean(seed=156, cases=60, count=7)
    await send_records(stub, [settlement_record(r) for r in rows])
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListPendingItems(pb.ListPendingItemsRequest(
            kinds=[pb.PENDING_KIND_RECORD], fixmedins_code=rows[0]["fixmedins_code"], page_size=2,
            page_token=token))
        assert len(page.pending_items) <= 2 and page.records_waiting >= len(page.pending_items)
        assert all(i.waited.ToTimedelta().total_seconds() >= 0 for i in page.pending_items)
        seen += [i.setl_id for i in page.pending_items]
        token = page.next_page_token
        if not token:
            break
    mine = {r["input"]["setlinfo"]["setl_id"] for r in rows if r["fixmedins_code"] == rows[0]["fixmedins_code"]}
    assert mine <= set(seen) and len(seen) == len(set(seen))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListPendingItems(pb.ListPendingItemsRequest(page_token="forged"))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[0].reason == "INVALID_PAGE_TOKEN"
