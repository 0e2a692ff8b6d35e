"""The national door's own machinery against real PostgreSQL and real sockets: nonces and serials shared by
replicas, China Standard Time, the HTTP server's caps and timeouts, envelopes for every answer, gRPC size limits."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import create_engine
from libs.common.runtime import Runtime
from libs.national.clock import CHINA
from services.collection.adapters.door_store import BLOCK, PostgresNonces, PostgresSerials
from services.collection.api.gateway import Gateway, GatewayConfigError, signature
from services.collection.api.http import NationalInterface
from services.collection.api.http_server import HttpDoor, HttpDoorConfig
from services.collection.bootstrap import service_spec

from ..support import free_port
from .doors import with_gateway, with_policy
from .lists import fresh
from .rpc_errors import error_info

App = tuple[Any, str, Any]


@pytest.fixture(scope="module")
async def engine(runtime: Runtime) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(runtime.settings, pool_size=4)
    yield engine
    await engine.dispose()


def signed(paasid: str, secret: str, nonce: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"x-tif-paasid": paasid, "x-tif-timestamp": stamp, "x-tif-nonce": nonce,
            "x-tif-signature": signature(stamp, secret, nonce)}


def replica(app: Any, gateway: Gateway, engine: AsyncEngine, serials: Any = None) -> NationalInterface:
    """A door as another process (a restart, another pod) has it: its own nonce store and serials, one database."""
    return NationalInterface(app.interface.transactions, gateway, region="330000",
                             nonces=PostgresNonces(engine, gateway.window_seconds),
                             serials=serials or app.interface.serials)


async def test_a_replayed_signature_fails_after_a_restart_and_on_another_replica(
        collection_app: App, engine: AsyncEngine, database_url: str) -> None:
    _, _, app = collection_app
    request = next(r for r, t in fresh(seed=71, cases=40) if not t["faults"])
    code = request["fixmedins_code"]
    gateway = Gateway.parse(f"pr:secret-r:{code}")
    query = {**request, "infno": "4103", "input": {"setl_id": "none-such"}}
    headers = signed("pr", "secret-r", uuid.uuid4().hex)
    first, after_restart, other_pod = (replica(app, gateway, engine) for _ in range(3))

    async def send(door: NationalInterface, hdrs: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=door.app()), base_url="http://gw") as c:
            return await c.post("/api/v1/hsa/4103", json=query, headers=hdrs)

    assert (await send(first, headers)).status_code == 200
    for door in (after_restart, other_pod):
        replayed = await send(door, headers)
        assert replayed.status_code == 401 and "replayed" in replayed.json()["err_msg"]
    # at once on several replicas: exactly one succeeds
    fresh_headers = signed("pr", "secret-r", uuid.uuid4().hex)
    doors = [replica(app, gateway, engine) for _ in range(6)]
    replies = await asyncio.gather(*(send(d, fresh_headers) for d in doors))
    assert sorted(r.status_code for r in replies) == [200] + [401] * 5
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM collection.gateway_nonce WHERE key_id = 'tif:pr'")
        await conn.execute("UPDATE collection.gateway_nonce SET seen_time = now() - interval '1 hour' "
                           "WHERE key_id = 'tif:pr'")
    finally:
        await conn.close()
    assert stored == 2
    purger = PostgresNonces(engine, 300, purge_every_seconds=0)
    assert await purger.claim("tif:other", "n1")
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM collection.gateway_nonce WHERE key_id = 'tif:pr'") == 0
    finally:
        await conn.close()


async def test_inf_refmsgid_is_unique_across_replicas_and_times_are_china_standard_time(
        collection_app: App, engine: AsyncEngine) -> None:
    _, _, app = collection_app
    request = next(r for r, _ in fresh(seed=72, cases=40))
    pods = []
    for _ in range(3):
        serials = PostgresSerials(engine)
        await serials.start()
        pods.append(replica(app, Gateway(), engine, serials))
    sign_in = {**request, "infno": "9001", "input": {}}
    ids: list[str] = []
    for pod in pods:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=pod.app()), base_url="http://d") as client:
            for _ in range(200):
                reply = (await client.post("/api/v1/hsa", json=sign_in)).json()
                ids.append(reply["inf_refmsgid"][20:])
    assert len(set(ids)) == len(ids) == 600
    assert len({int(i) // BLOCK for i in ids}) == 3  # one serial block per pod
    now = datetime.now(CHINA).replace(tzinfo=None)
    stamp = datetime.strptime(reply["refmsg_time"][:14], "%Y%m%d%H%M%S")
    assert abs(stamp - now) < timedelta(minutes=2)
    assert reply["output"]["signinoutb"]["sign_time"][:13] == now.strftime("%Y-%m-%d %H")


async def test_serials_keep_coming_when_blocks_run_out(engine: AsyncEngine) -> None:
    serials = PostgresSerials(engine)
    await serials.start()
    seen = {serials.next() for _ in range(BLOCK // 2 + 1)}
    await asyncio.sleep(0.5)  # the prefetch of the next block
    seen |= {serials.next() for _ in range(BLOCK)}
    assert len(seen) == BLOCK + BLOCK // 2 + 1


@pytest.fixture
async def live_door(collection_app: App) -> AsyncIterator[tuple[HttpDoor, str]]:
    _, _, app = collection_app
    door = HttpDoor(app.interface.app(), HttpDoorConfig(f"127.0.0.1:{free_port()}", max_connections=5,
                                                        header_timeout_seconds=0.5, keepalive_seconds=1),
                    app.interface.busy)
    await door.start()
    yield door, f"http://127.0.0.1:{door.port}"
    await door.stop()


async def raw_exchange(port: int, payload: bytes, wait: float = 3.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), wait)
    finally:
        writer.close()


async def test_connections_over_the_cap_are_answered_busy_and_idle_ones_are_closed(
        live_door: tuple[HttpDoor, str]) -> None:
    door, _ = live_door
    idle = [await asyncio.open_connection("127.0.0.1", door.port) for _ in range(5)]
    await asyncio.sleep(0.05)
    busy = await raw_exchange(door.port, b"")
    assert busy.startswith(b"HTTP/1.1 503") and b'"infcode":-1' in busy and b"too many open connections" in busy
    started = time.monotonic()
    for reader, _ in idle:  # never sent a request: closed by the header timeout
        assert await asyncio.wait_for(reader.read(), 5) == b""
    assert time.monotonic() - started < 3
    for _, writer in idle:
        writer.close()
    await asyncio.sleep(0.05)
    health = await raw_exchange(door.port, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200")


async def test_a_slow_request_is_cut_off(collection_app: App) -> None:
    _, _, app = collection_app
    slow = with_policy(app.interface, body_timeout_seconds=0.5)
    door = HttpDoor(slow.app(), HttpDoorConfig(f"127.0.0.1:{free_port()}", header_timeout_seconds=0.5), slow.busy)
    await door.start()
    try:
        head = b"POST /api/v1/hsa HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n"
        answer = await raw_exchange(door.port, head + b'{"infno": ')
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 0.5 s" in answer
        assert b"connection: close" in answer.lower()
        trickle = await raw_exchange(door.port, b"POST /api/v1/hsa HTTP/1.1\r\nhost:")
        assert trickle == b""  # headers never completed: closed without an answer
    finally:
        await door.stop()


async def test_every_answer_is_an_envelope(live_door: tuple[HttpDoor, str], collection_app: App) -> None:
    _, base = live_door
    request = next(r for r, t in fresh(seed=73, cases=40) if not t["faults"])
    async with httpx.AsyncClient(timeout=30) as client:
        missing = await client.post(f"{base}/nowhere", json=request)
        wrong_method = await client.get(f"{base}/api/v1/hsa/4101A")
        slash = await client.post(f"{base}/api/v1/hsa/", json={**request, "infno": "9001", "input": {}})
        huge = await client.post(f"{base}/api/v1/hsa", content=b"{" + b" " * (3 * 1024 * 1024) + b"}")
    assert missing.status_code == 404 and missing.json()["infcode"] == -1 and "no such endpoint" in missing.text
    assert wrong_method.status_code == 405 and wrong_method.json()["infcode"] == -1
    assert slash.status_code == 200 and slash.json()["infcode"] == 0
    assert huge.status_code == 413 and "exceeds" in huge.json()["err_msg"]


async def test_credentials_are_checked_before_the_body_is_read(collection_app: App) -> None:
    _, _, app = collection_app
    door = with_gateway(app.interface, Gateway.parse(apikeys="H33070300089:a-sixteen-char-key"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=door.app()), base_url="http://gw") as client:
        too_big = await client.post("/api/v1/hsa", content=b"x" * (3 * 1024 * 1024))
        broken = await client.post("/api/v1/hsa", content=b"[1,", headers={"apikey": "wrong-key-1234567"})
    assert too_big.status_code == 401 and "no credentials" in too_big.json()["err_msg"]
    assert broken.status_code == 401 and "no known API key" in broken.json()["err_msg"]


def test_without_credentials_the_door_serves_loopback_only(collection_app: App) -> None:
    _, _, app = collection_app
    assert not app.interface.gateway.enabled
    with pytest.raises(GatewayConfigError, match="loopback only"):
        service_spec(app, "0.0.0.0:8080", "/api/v1/hsa")
    service_spec(app, "127.0.0.1:8080", "/api/v1/hsa")  # allowed; not started


async def test_grpc_refuses_a_list_larger_than_the_http_door_takes(collection_app: App) -> None:
    running, _, app = collection_app
    limit = app.runtime.settings.max_body_bytes
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = pb_grpc.CollectionServiceStub(channel)
        big = pb.SettlementListUpload(fixmedins_code="H33070300089", input_json=json.dumps(
            {"setlinfo": {"filler": "x" * (limit + 100 * 1024)}}).encode())
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=big))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(refused.value)[0].reason == "LIST_TOO_LARGE"

        async def one(upload: pb.SettlementListUpload) -> AsyncIterator[pb.BatchUploadSettlementListsRequest]:
            yield pb.BatchUploadSettlementListsRequest(upload=upload)

        batch = await stub.BatchUploadSettlementLists(one(big))
        assert batch.results[0].error.startswith("LIST_TOO_LARGE") and batch.rejected_count == 1
        fits = pb.SettlementListUpload(fixmedins_code="H33070300089", input_json=json.dumps(
            {"setlinfo": {"filler": "x" * (limit - 1024)}}).encode())
        with pytest.raises(grpc.aio.AioRpcError) as rejected:
            await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=fits))
        assert rejected.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "QC-LIM-001" in (rejected.value.details() or "")


async def test_a_batch_of_records_larger_than_a_list_is_taken(collection_app: App) -> None:
    """A batch of settlement records may be far larger than one list (10,000 records of about 1.3 KiB): 3 MiB
    of record lines reach the intake and each is answered (these are not records: refused, nothing stored)."""
    running, _, app = collection_app
    lines = [json.dumps({"infno": "2304", "fixmedins_code": "H33070300089", "setlinfo": {"note": "x" * 1500}})
             .encode() for _ in range(2000)]
    assert sum(map(len, lines)) > app.runtime.settings.max_body_bytes + 64 * 1024
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        reply = await pb_grpc.CollectionServiceStub(channel).UploadSettlementRecords(
            pb.UploadSettlementRecordsRequest(records=lines), timeout=120)
    assert reply.refused_count == len(lines) and len(reply.results) == len(lines)


def test_binding_a_taken_port_says_so() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        from services.collection.api.http_server import bind

        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind(f"127.0.0.1:{port}", reuse_port=True)
