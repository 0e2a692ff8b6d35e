"""Generated hostile requests at the HTTP door and the gRPC uploads (hypothesis): never a 500 or a traceback,
always the envelope (or a gRPC status with a reason), and nothing stored for a rejection beyond its record."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from .lists import fresh

App = tuple[Any, str, Any]
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
HOSTILE_TEXT = st.one_of(
    TEXT, st.sampled_from(["\x00", "a\x00b", "\x1b[31m", "\u202e", "\ufeff", "'; DROP TABLE x; --", "%s%n", "\u0085"]),
    st.integers(1, 6).map(lambda n: "x" * 10**n), st.just("张" * 5000))
NUMBERS = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([2**31, 2**31 - 1, -(2**31) - 1, 2**63, 2**64 - 1]),
                    st.floats(allow_nan=False, allow_infinity=False))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT,
                    st.sampled_from(["", " ", "2099-12-31", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
                                     "-9999999999.99", "9999999999.99", "1e308", "NaN", "2026-02-30"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)
SETLINFO_FIELDS = ["setl_id", "psn_no", "mdtrt_id", "psn_name", "gend", "brdy", "age", "nwb_age", "nwb_bir_wt",
                   "insutype", "hi_type", "adm_time", "dscg_time", "setl_begn_date", "setl_end_date", "dscg_way",
                   "act_ipt_days", "medfee_sumamt", "acct_pay", "psn_cashpay", "chfpdr_code", "dscg_caty", "\x00",
                   "a" * 100, "new_property"]
NODE_FIELDS = {"diseinfo": ["diag_code", "maindiag_flag", "diag_name"], "oprninfo": ["oprn_oprt_code",
               "oprn_oprt_begntime"], "iteminfo": ["amt", "med_chrgitm", "claa_sumfee"], "payinfo": ["fund_payamt"]}


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[tuple[Any, ...], Any]]:
    """A few (path, value) edits of a clean list: fields, node entries, whole nodes, extra properties, depth."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["setlinfo", "node", "whole", "extra", "deep", "many"]))
        if kind == "setlinfo":
            edits.append((("setlinfo", draw(st.sampled_from(SETLINFO_FIELDS))), draw(VALUES)))
        elif kind == "node":
            node = draw(st.sampled_from(sorted(NODE_FIELDS)))
            edits.append(((node, 0, draw(st.sampled_from(NODE_FIELDS[node]))), draw(VALUES)))
        elif kind == "whole":
            edits.append(((draw(st.sampled_from(["setlinfo", *NODE_FIELDS])),), draw(VALUES)))
        elif kind == "extra":
            edits.append(((draw(TEXT),), draw(VALUES)))
        elif kind == "deep":
            depth = draw(st.integers(10, 400))
            edits.append((("setlinfo", "deep"), json.loads("[" * depth + "]" * depth)))
        else:
            edits.append((("diseinfo",), [{"diag_code": f"Z{i:05d}", "maindiag_flag": "0"}
                                          for i in range(draw(st.integers(50, 3000)))]))
    return edits


def apply(body: dict[str, Any], edits: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for path, value in edits:
        node: Any = body
        for step in path[:-1]:
            node = _child(node, step)
        if _child(node, path[-1], any_value=True) is not _MISSING:
            node[path[-1]] = value
    return body


_MISSING = object()


def _child(node: Any, step: Any, any_value: bool = False) -> Any:
    """The child of ``node`` at ``step`` (a container, or with ``any_value`` a settable place), else _MISSING."""
    if isinstance(node, dict) and (any_value or isinstance(node.get(step), dict | list)):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return _MISSING


async def counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return {table: int(await conn.fetchval(f"SELECT count(*) FROM collection.{table}"))
                for table in ("settlement_list", "list_revision", "list_finding", "group_result", "rejection",
                              "idempotency")}
    finally:
        await conn.close()


async def largest_rejection(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT coalesce(max(jsonb_array_length(findings)), 0) "
                                       "FROM collection.rejection"))
    finally:
        await conn.close()


def in_thread(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine on the test's event loop from hypothesis' thread (the servers live on that loop)."""
    return lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=120)


async def without_errors(check: Callable[[], None], caplog: pytest.LogCaptureFixture) -> None:
    """Run a hypothesis test in a thread (the servers stay on this loop); no service may log an error meanwhile."""
    with caplog.at_level(logging.ERROR):
        await asyncio.to_thread(check)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records[:3]


HYPOTHESIS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


async def test_generated_requests_at_the_http_door(collection_app: App, database_url: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    _, base, _ = collection_app
    template = next(r for r, t in fresh(seed=91, cases=40) if not t["faults"])
    serial = itertools.count()
    before = await counts(database_url)
    tally = {"accepted": 0, "qc_rejected": 0}
    run = in_thread(asyncio.get_running_loop())
    client = httpx.AsyncClient(timeout=120)

    async def post(content: bytes, path: str) -> httpx.Response:
        return await client.post(f"{base}{path}", content=content, headers={"content-type": "application/json"})

    @HYPOTHESIS
    @given(mutations(), st.sampled_from(["", "/4101A"]), st.booleans())
    def check(edits: list[tuple[tuple[Any, ...], Any]], path: str, as_envelope_edit: bool) -> None:
        request = {**template, "msgid": f"{template['fixmedins_code']}20260101{next(serial):010d}"[:30],
                   "input": apply(template["input"], edits)}
        if as_envelope_edit:  # the same mutations on the envelope
            request = apply(request, [((p[-1] if isinstance(p[-1], str) else "infno",), v) for p, v in edits])
        content = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass")
        reply = run(post(content, path))
        assert reply.status_code in (200, 413), (reply.status_code, reply.text[:500])
        assert len(reply.content) < 256 * 1024
        body = reply.json()
        assert body["infcode"] in (0, -1) and len(body["inf_refmsgid"]) == 30
        assert "Traceback" not in body["err_msg"] and "INTERNAL" not in body["err_msg"], body["err_msg"]
        if body["infcode"] == 0:
            tally["accepted"] += 1
        elif any(f["code"].startswith("QC-") for f in body["output"]["findings"]):
            tally["qc_rejected"] += 1
            assert len(body["output"]["findings"]) <= 101

    await without_errors(check, caplog)
    await client.aclose()
    after = await counts(database_url)
    assert after["rejection"] - before["rejection"] == tally["qc_rejected"]
    assert after["list_revision"] - before["list_revision"] == tally["accepted"]
    assert after["idempotency"] - before["idempotency"] == tally["accepted"] + tally["qc_rejected"]
    assert await largest_rejection(database_url) <= 101
    assert tally["qc_rejected"] > 50


async def test_generated_uploads_at_the_grpc_door(collection_app: App, database_url: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    running, _, _ = collection_app
    template = next(r for r, t in fresh(seed=92, cases=40) if not t["faults"])
    serial = itertools.count()
    before = await counts(database_url)
    tally = {"accepted": 0, "rejected": 0}
    run = in_thread(asyncio.get_running_loop())
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb_grpc.CollectionServiceStub(channel)

    async def upload(message: pb.SettlementListUpload) -> tuple[grpc.StatusCode, str]:
        try:
            await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=message), timeout=120)
        except grpc.aio.AioRpcError as refused:
            return refused.code(), refused.details() or ""
        return grpc.StatusCode.OK, ""

    @HYPOTHESIS
    @given(mutations(), st.one_of(st.just(template["fixmedins_code"]), TEXT, st.just("H" * 5000)),
           st.one_of(st.none(), TEXT, st.just("r" * 5000)))
    def check(edits: list[tuple[tuple[Any, ...], Any]], code: str, request_id: str | None) -> None:
        body = json.dumps(apply(template["input"], edits), ensure_ascii=False).encode("utf-8", "surrogatepass")
        rid = f"hyp-{next(serial)}" if request_id is None else request_id
        status, details = run(upload(pb.SettlementListUpload(fixmedins_code=code, request_id=rid, input_json=body)))
        assert status in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS), (
            status, details[:300])
        assert "Traceback" not in details and len(details) < 4096
        if status == grpc.StatusCode.OK:
            tally["accepted"] += 1
        elif status == grpc.StatusCode.INVALID_ARGUMENT and "(QC-" in details:
            tally["rejected"] += 1

    await without_errors(check, caplog)
    await channel.close()
    after = await counts(database_url)
    assert after["list_revision"] - before["list_revision"] == tally["accepted"]
    assert after["rejection"] - before["rejection"] == tally["rejected"]
    assert await largest_rejection(database_url) <= 101


WHO_VALUES = st.one_of(VALUES, st.just("S" * 4000), st.just("330700S\x002026"))


@st.composite
def status_and_query_inputs(draw: st.DrawFn) -> tuple[str, Any]:
    """4102 and 4103 inputs in the national and the flat form, with hostile identities."""
    infno = draw(st.sampled_from(["4102", "4103"]))
    entry = draw(st.fixed_dictionaries({}, optional={"psn_no": WHO_VALUES, "setl_id": WHO_VALUES,
                                                     "setl_list_id": WHO_VALUES, "stas_type": WHO_VALUES,
                                                     "reason": WHO_VALUES}))
    if infno == "4102" and draw(st.booleans()):
        rows = draw(st.one_of(st.lists(st.just(entry), max_size=3), st.just([entry] * 150), VALUES))
        return infno, {"data": {"stastinfo": rows}}
    return infno, draw(st.sampled_from([{"data": entry}, entry, {"data": draw(VALUES)}]))


async def test_generated_status_changes_and_queries(collection_app: App, database_url: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    _, base, _ = collection_app
    template = next(r for r, t in fresh(seed=93, cases=40) if not t["faults"])
    run = in_thread(asyncio.get_running_loop())
    client = httpx.AsyncClient(timeout=120)
    before = await counts(database_url)

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(status_and_query_inputs())
    def check(call: tuple[str, Any]) -> None:
        infno, body = call
        content = json.dumps({**template, "infno": infno, "input": body}, ensure_ascii=False).encode(
            "utf-8", "surrogatepass")
        reply = run(client.post(base, content=content))
        assert reply.status_code in (200, 413), (reply.status_code, reply.text[:300])
        answer = reply.json()
        assert answer["infcode"] in (0, -1) and "Traceback" not in answer["err_msg"]
        assert len(reply.content) < 256 * 1024

    await without_errors(check, caplog)
    await client.aclose()
    after = await counts(database_url)
    assert after["settlement_list"] == before["settlement_list"] and after["rejection"] == before["rejection"]


async def test_generated_batches_at_the_grpc_door(collection_app: App, database_url: str) -> None:
    running, _, _ = collection_app
    template = next(r for r, t in fresh(seed=94, cases=40) if not t["faults"])
    serial = itertools.count()
    run = in_thread(asyncio.get_running_loop())
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb_grpc.CollectionServiceStub(channel)

    async def batch(uploads: list[pb.SettlementListUpload]) -> tuple[grpc.StatusCode, Any]:
        async def requests() -> Any:
            for upload in uploads:
                yield pb.BatchUploadSettlementListsRequest(upload=upload)
        try:
            return grpc.StatusCode.OK, await stub.BatchUploadSettlementLists(requests(), timeout=120)
        except grpc.aio.AioRpcError as refused:
            return refused.code(), refused.details()

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(mutations(), min_size=1, max_size=4))
    def check(batches: list[list[tuple[tuple[Any, ...], Any]]]) -> None:
        uploads = [pb.SettlementListUpload(
            fixmedins_code=template["fixmedins_code"], request_id=f"hyp-batch-{next(serial)}",
            input_json=json.dumps(apply(template["input"], edits), ensure_ascii=False).encode("utf-8", "surrogatepass"))
            for edits in batches]
        status, answer = run(batch(uploads))
        assert status == grpc.StatusCode.OK, (status, str(answer)[:300])
        assert [r.index for r in answer.results] == list(range(len(uploads)))
        assert all(len(r.rejections) <= 101 for r in answer.results)

    await asyncio.to_thread(check)
    await channel.close()


async def test_every_transaction_of_the_dispatch_table_takes_generated_input(
        collection_app: App, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever another function adds to the door's table is held to the same standard: no 500, no traceback."""
    _, base, app = collection_app
    template = next(r for r, t in fresh(seed=95, cases=40) if not t["faults"])
    infnos = sorted(app.interface.transactions)
    serial = itertools.count()
    run = in_thread(asyncio.get_running_loop())
    client = httpx.AsyncClient(timeout=120)

    @settings(max_examples=20 * len(infnos), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.sampled_from(infnos), st.dictionaries(TEXT, VALUES, max_size=4),
           st.one_of(st.none(), st.dictionaries(TEXT, VALUES, max_size=4), VALUES))
    def check(infno: str, body: dict[str, Any], data: Any) -> None:
        if data is not None:
            body = {**body, "data": data}
        request = {**template, "infno": infno, "input": body,
                   "msgid": f"{template['fixmedins_code']}20260102{next(serial):010d}"[:30]}
        content = json.dumps(request, ensure_ascii=False).encode("utf-8", "surrogatepass")
        reply = run(client.post(base, content=content))
        assert reply.status_code in (200, 413), (infno, reply.status_code, reply.text[:300])
        answer = reply.json()
        assert answer["infcode"] in (0, -1) and "Traceback" not in answer["err_msg"], answer

    await without_errors(check, caplog)
    await client.aclose()
