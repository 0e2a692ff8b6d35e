"""The prefecture platforms' door: medpay.collection.v1 over a real grpc.aio server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.type import date_pb2
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.paging import encode_token

from .lists import fresh
from .rpc_errors import error_info

App = tuple[Any, str, Any]


@pytest.fixture
async def stub(collection_app: App) -> AsyncIterator[pb_grpc.CollectionServiceStub]:
    running, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.CollectionServiceStub(channel)


def upload_of(request: dict[str, Any], request_id: str = "") -> pb.SettlementListUpload:
    return pb.SettlementListUpload(request_id=request_id, fixmedins_code=request["fixmedins_code"],
                                   fixmedins_name=request["fixmedins_name"],
                                   input_json=json.dumps(request["input"], ensure_ascii=False).encode())


async def test_upload_with_request_id_is_idempotent(stub: pb_grpc.CollectionServiceStub) -> None:
    request = next(r for r, t in fresh(seed=31, cases=40) if not t["faults"])
    first = await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload_of(request, "req-31-a")))
    again = await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload_of(request, "req-31-a")))
    assert first == again and first.revision == 1 and first.case_group.code
    other = dict(request, input={**request["input"], "setlinfo": {**request["input"]["setlinfo"], "age": 99}})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload_of(other, "req-31-a")))
    assert caught.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value)[0].reason == "REQUEST_ID_REUSED"


async def test_a_rejected_list_is_invalid_argument_naming_fields_and_rules(
        stub: pb_grpc.CollectionServiceStub) -> None:
    request = next(r for r, t in fresh(seed=32, cases=300) if "DISCHARGE_BEFORE_ADMISSION" in t["faults"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload_of(request)))
    info, bad = error_info(caught.value)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and info.reason == "INVALID_LIST"
    assert "QC-DT-002" in info.metadata["findings"]
    assert any(v.field == "setlinfo.dscg_time" for v in bad.field_violations)


async def test_batch_upload_reports_each_list(stub: pb_grpc.CollectionServiceStub) -> None:
    rows = fresh(seed=33, cases=120)

    async def stream() -> AsyncIterator[pb.BatchUploadSettlementListsRequest]:
        for request, _ in rows:
            yield pb.BatchUploadSettlementListsRequest(upload=upload_of(request))

    reply = await stub.BatchUploadSettlementLists(stream())
    assert [r.index for r in reply.results] == list(range(len(rows)))
    for result, (_, truth) in zip(reply.results, rows, strict=True):
        assert result.HasField("accepted") == (not truth["faults"])
        assert bool(result.rejections) == bool(truth["faults"])
    assert reply.accepted_count + reply.rejected_count == len(rows)


async def test_get_list_paging_status_and_case_feed(stub: pb_grpc.CollectionServiceStub) -> None:
    rows = [(r, t) for r, t in fresh(seed=34, cases=80) if not t["faults"]]
    for request, _ in rows:
        await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload_of(request)))
    code = rows[0][0]["fixmedins_code"]
    period = rows[0][1]["month"]
    mine = [r for r, t in rows if r["fixmedins_code"] == code]
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListSettlementLists(pb.ListSettlementListsRequest(
            fixmedins_code=code, settlement_month=Period.parse(period).to_proto(), page_size=3,
            page_token=token))
        seen += [s.setl_id for s in page.settlement_lists]
        token = page.next_page_token
        if not token:
            break
    assert {r["input"]["setlinfo"]["setl_id"] for r in mine} <= set(seen)
    setl_id = mine[0]["input"]["setlinfo"]["setl_id"]
    got = (await stub.GetSettlementList(pb.GetSettlementListRequest(fixmedins_code=code, setl_id=setl_id)))
    assert json.loads(got.input_json)["setlinfo"]["setl_id"] == setl_id
    assert got.case_group.code and got.status == pb.LIST_STATUS_ACTIVE
    assert got.name == f"settlementLists/{got.setl_list_id}"
    assert got.total_cost.fen > 0 and got.history[0].reason == "upload"
    assert (await stub.GetSettlementList(pb.GetSettlementListRequest(name=got.name))) == got
    revoked = await stub.RevokeSettlementList(pb.RevokeSettlementListRequest(
        fixmedins_code=code, setl_id=setl_id, reason="test"))
    assert revoked.status == pb.LIST_STATUS_REVOKED
    region = rows[0][0]["fixmedins_code"][1:5] + "00"
    feed = [c async for chunk in stub.StreamCases(pb.StreamCasesRequest(
        region=region, settlement_periods=[Period.parse(period).to_proto()]))
            for c in chunk.cases]
    status = {c.setl_list_id: c.status for c in feed}
    assert status[got.setl_list_id] == pb.LIST_STATUS_REVOKED  # revoked lists keep their status
    assert all(c.groups[0].code and c.total_cost.fen > 0 and 0 <= c.fund_paid.fen <= c.total_cost.fen for c in feed)
    # A stay cheaper than the deductible is paid by the patient alone (fund 0); most are not.
    assert sum(c.fund_paid.fen > 0 for c in feed) > 0.9 * len(feed)
    assert sum(s == pb.LIST_STATUS_ACTIVE for s in status.values()) >= len(rows) - 1


async def test_errors_name_their_fields(stub: pb_grpc.CollectionServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetSettlementList(pb.GetSettlementListRequest(name="settlementLists/330700L2099010199999999"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=pb.SettlementListUpload(
            fixmedins_code="H33070300089", input_json=b"{not json")))
    assert error_info(caught.value)[1].field_violations[0].field == "upload.input_json"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSettlementLists(pb.ListSettlementListsRequest(
            settlement_month=date_pb2.Date(year=2026, month=13)))
    assert error_info(caught.value)[1].field_violations[0].field == "settlement_month"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetSettlementList(pb.GetSettlementListRequest(name="lists/330700L2026010100000001"))
    assert error_info(caught.value)[1].field_violations[0].field == "name"


@pytest.mark.parametrize("token", ["forged", encode_token("not-a-list-id"), encode_token("9" * 40), encode_token("-5")])
async def test_a_forged_page_token_is_invalid_argument(stub: pb_grpc.CollectionServiceStub, token: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListSettlementLists(pb.ListSettlementListsRequest(page_token=token))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info, bad = error_info(caught.value)
    assert info.reason == "INVALID_PAGE_TOKEN" and bad.field_violations[0].field == "page_token"


async def test_a_batch_that_loses_its_grouping_service_midway_answers_per_list_and_stores_nothing_half_done(
        runtime: Any, coding_server: Any, database_url: str) -> None:
    """A collection service of its own, with a grouping service of its own that stops in the middle of a batch:
    the lists grouped before are stored, each later one is answered UPSTREAM_UNAVAILABLE and nothing of it (no
    list, no revision, no feed event) is stored."""
    import asyncio

    import asyncpg

    from libs.common.grpc.server import start_server
    from libs.common.runtime import Runtime
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec
    from services.grouping.bootstrap import build_registry
    from services.grouping.bootstrap import service_spec as grouping_spec

    from ..support import free_port

    grouping = await start_server(grouping_spec(build_registry(runtime)), runtime.settings, "127.0.0.1:0")
    settings = runtime.settings.model_copy(update={"coding_address": f"127.0.0.1:{coding_server.port}",
                                                   "grouping_address": f"127.0.0.1:{grouping.port}"})
    app = await build_collection(Runtime(settings))
    collection = await start_server(collection_spec(app, f"127.0.0.1:{free_port()}", "/api/v1/hsa"), settings,
                                    "127.0.0.1:0")
    rows = [r for r, t in fresh(seed=171, cases=200) if not t["faults"]][:96]
    first = 64  # two windows of 32, grouped before the grouping service stops

    async def stored_keys() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(
                "SELECT count(*) FROM collection.idempotency WHERE key LIKE 'request:%:grp-171-%'"))
        finally:
            await conn.close()

    async def stream() -> AsyncIterator[pb.BatchUploadSettlementListsRequest]:
        for i, request in enumerate(rows):
            if i == first:
                async with asyncio.timeout(240):  # the server has grouped and stored the first two windows
                    while await stored_keys() < first:  # noqa: ASYNC110 - the state is in the database
                        await asyncio.sleep(0.1)
                await grouping.stop()
            yield pb.BatchUploadSettlementListsRequest(upload=upload_of(request, f"grp-171-{i}"))

    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{collection.port}") as channel:
            reply = await pb_grpc.CollectionServiceStub(channel).BatchUploadSettlementLists(stream(), timeout=300)
    finally:
        await collection.stop()
    assert [r.index for r in reply.results] == list(range(len(rows)))
    assert all(r.HasField("accepted") and r.accepted.case_group.code for r in reply.results[:first])
    assert all(r.error.startswith("UPSTREAM_UNAVAILABLE") for r in reply.results[first:])
    assert (reply.accepted_count, reply.rejected_count) == (first, len(rows) - first)
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetch(
            "SELECT l.setl_id, (SELECT count(*) FROM collection.group_result g WHERE g.list_id = l.list_id) AS g, "
            "(SELECT count(*) FROM collection.case_event e WHERE e.list_id = l.list_id) AS e "
            "FROM collection.settlement_list l JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id",
            [r["fixmedins_code"] for r in rows], [r["input"]["setlinfo"]["setl_id"] for r in rows])
        keys = await conn.fetchval("SELECT count(*) FROM collection.idempotency WHERE key LIKE 'request:%:grp-171-%'")
    finally:
        await conn.close()
    assert sorted(r["setl_id"] for r in stored) == sorted(r["input"]["setlinfo"]["setl_id"] for r in rows[:first])
    assert all((r["g"], r["e"]) == (1, 1) for r in stored)
    assert keys == first  # the failed lists' request ids are free: a resend is processed afresh


async def test_a_replay_is_answered_from_the_stored_response_while_coding_and_grouping_are_down(
        runtime: Any, coding_server: Any) -> None:
    """The idempotency key is looked up before quality control and grouping: with both upstream services
    stopped, a replay of an acknowledged upload (gRPC request_id and HTTP msgid) still gets its first answer,
    while a new list is answered UNAVAILABLE."""
    import httpx

    from libs.common.grpc.server import start_server
    from libs.common.runtime import Runtime
    from services.coding.bootstrap import build_app as build_coding
    from services.coding.bootstrap import service_spec as coding_spec
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec
    from services.grouping.bootstrap import build_registry
    from services.grouping.bootstrap import service_spec as grouping_spec

    from ..support import free_port

    coding = await start_server(coding_spec(build_coding(runtime), 3600), runtime.settings, "127.0.0.1:0")
    grouping = await start_server(grouping_spec(build_registry(runtime)), runtime.settings, "127.0.0.1:0")
    settings = runtime.settings.model_copy(update={"coding_address": f"127.0.0.1:{coding.port}",
                                                   "grouping_address": f"127.0.0.1:{grouping.port}"})
    app = await build_collection(Runtime(settings))
    http = f"127.0.0.1:{free_port()}"
    collection = await start_server(collection_spec(app, http, "/api/v1/hsa"), settings, "127.0.0.1:0")
    clean = [r for r, t in fresh(seed=181, cases=60) if not t["faults"]]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{collection.port}") as channel, \
                httpx.AsyncClient(timeout=30) as client:
            stub = pb_grpc.CollectionServiceStub(channel)
            first = await stub.UploadSettlementList(pb.UploadSettlementListRequest(
                upload=upload_of(clean[0], "replay-181")))
            posted = (await client.post(f"http://{http}/api/v1/hsa/4101A", json=clean[1])).json()
            assert first.case_group.code and posted["infcode"] == 0 and posted["output"]["drg"]
            await grouping.stop()
            await coding.stop()
            again = await stub.UploadSettlementList(pb.UploadSettlementListRequest(
                upload=upload_of(clean[0], "replay-181")))
            reposted = (await client.post(f"http://{http}/api/v1/hsa/4101A", json=clean[1])).json()
            assert again == first and reposted == posted
            with pytest.raises(grpc.aio.AioRpcError) as down:
                await stub.UploadSettlementList(pb.UploadSettlementListRequest(
                    upload=upload_of(clean[2], "replay-181-new")))
            assert down.value.code() is grpc.StatusCode.UNAVAILABLE
            assert error_info(down.value)[0].reason == "UPSTREAM_UNAVAILABLE"
    finally:
        await collection.stop()
