"""Crash safety: SIGKILL the collection server mid-upload, restart it, resend the unacknowledged lists."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import asyncpg
import httpx

from libs.common.grpc.server import RunningServer
from libs.common.runtime import Runtime

from ..support import ROOT, free_port
from .lists import fresh


async def start_collection(env: dict[str, str], http_port: int, grpc_port: int = 0) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "serve", "collection", "--address",
        f"127.0.0.1:{grpc_port or free_port()}",
        cwd=ROOT, env={**os.environ, **env, "MEDPAY_COLLECTION_HTTP_ADDRESS": f"127.0.0.1:{http_port}"})
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{http_port}/healthz", timeout=1)).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            if proc.returncode is not None:
                raise RuntimeError("collection server exited during start-up")
            await asyncio.sleep(0.2)
    raise TimeoutError("collection server did not start")


async def test_sigkill_mid_upload_loses_no_acknowledged_list_and_duplicates_none(
        runtime: Runtime, database_url: str, coding_server: RunningServer, grouping_server: RunningServer) -> None:
    env = {"MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding_server.port}",
           "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping_server.port}", "MEDPAY_LOG_LEVEL": "ERROR"}
    http_port = free_port()
    base = f"http://127.0.0.1:{http_port}/api/v1/hsa"
    uploads = [r for r, t in fresh(seed=41, cases=400) if not t["faults"]]
    acked: dict[str, dict[str, Any]] = {}
    proc = await start_collection(env, http_port)

    async def send_all(requests: list[dict[str, Any]]) -> None:
        limit = asyncio.Semaphore(16)
        async with httpx.AsyncClient(timeout=30) as client:
            async def one(request: dict[str, Any]) -> None:
                async with limit:
                    try:
                        reply = await client.post(f"{base}/4101A", json=request)
                        body = reply.json()
                    except (httpx.HTTPError, ValueError):
                        return  # not acknowledged: to be resent
                    if body.get("infcode") == 0:
                        acked[request["msgid"]] = body
                        if len(acked) >= len(uploads) // 4:
                            quarter_acknowledged.set()

            await asyncio.gather(*(one(r) for r in requests))

    quarter_acknowledged = asyncio.Event()

    async def kill_midway() -> None:
        await quarter_acknowledged.wait()
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)

    killer = asyncio.create_task(kill_midway())
    await send_all(uploads)
    quarter_acknowledged.set()  # (the restart round must not be killed)
    await killer
    await proc.wait()
    first_round = dict(acked)
    assert 0 < len(first_round) < len(uploads), "the kill did not land mid-upload"

    proc = await start_collection(env, http_port)
    try:
        await send_all([r for r in uploads if r["msgid"] not in first_round])
        replays = list(first_round)[:20]
        await send_all([r for r in uploads if r["msgid"] in replays])  # replays of acknowledged lists
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()

    assert set(acked) == {r["msgid"] for r in uploads}
    assert all(acked[m] == first_round[m] for m in first_round)  # a replay answers what was acknowledged
    wanted = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"]) for r in uploads}
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(  # setl_id is unique per institution only: match the pairs
            "SELECT l.fixmedins_code, l.setl_id, l.current_revision, count(r.revision) AS revisions "
            "FROM collection.settlement_list l JOIN collection.list_revision r USING (list_id) "
            "JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id GROUP BY l.list_id",
            [c for c, _ in wanted], [s for _, s in wanted])
    finally:
        await conn.close()
    assert {(r["fixmedins_code"], r["setl_id"]) for r in rows} == wanted
    assert all(r["current_revision"] == 1 and r["revisions"] == 1 for r in rows)


async def test_lists_and_records_in_both_orders_with_a_sigkill_between_lose_nothing_and_group_once(
        runtime: Runtime, database_url: str, coding_server: RunningServer, grouping_server: RunningServer) -> None:
    """Hospitals post HIS-form lists while the core system sends their records, interleaved (some lists come
    before their records, some after), and the server is killed midway. After a restart and the resends,
    every list is stored once, joined with its record and grouped into the feed exactly once."""
    import json
    import random

    import grpc
    from medpay.collection.v1 import collection_service_pb2 as pb
    from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

    from .his import his_form, settlement_record

    env = {"MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding_server.port}",
           "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping_server.port}", "MEDPAY_LOG_LEVEL": "ERROR"}
    http_port, grpc_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}/api/v1/hsa"
    rich = [r for r, t in fresh(seed=161, cases=400) if not t["faults"]][:240]
    lists = [his_form(r) for r in rich]
    records = [settlement_record(r) for r in rich]
    order = list(range(len(rich)))
    random.Random(161).shuffle(order)
    batches = [order[i:i + 8] for i in range(0, len(order), 8)]  # records in another order than the lists
    acked_lists: set[str] = set()
    acked_batches: set[int] = set()
    proc = await start_collection(env, http_port, grpc_port)
    third = asyncio.Event()

    async def send_lists(todo: list[dict[str, Any]]) -> None:
        limit = asyncio.Semaphore(8)
        async with httpx.AsyncClient(timeout=30) as client:
            async def one(request: dict[str, Any]) -> None:
                async with limit:
                    try:
                        body = (await client.post(f"{base}/4101A", json=request)).json()
                    except (httpx.HTTPError, ValueError):
                        return
                    if body.get("infcode") == 0:
                        acked_lists.add(request["msgid"])
                        if len(acked_lists) >= len(lists) // 3 and len(acked_batches) >= len(batches) // 3:
                            third.set()
            await asyncio.gather(*(one(r) for r in todo))

    async def send_records(todo: list[int]) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = pb_grpc.CollectionServiceStub(channel)
            for b in todo:
                try:
                    await stub.UploadSettlementRecords(pb.UploadSettlementRecordsRequest(
                        request_id=f"crash-161-{b}",
                        records=[json.dumps(records[i], ensure_ascii=False).encode() for i in batches[b]]), timeout=30)
                except grpc.aio.AioRpcError:
                    continue
                acked_batches.add(b)

    async def kill_midway() -> None:
        await third.wait()
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)

    killer = asyncio.create_task(kill_midway())
    await asyncio.gather(send_lists(lists), send_records(list(range(len(batches)))))
    third.set()
    await killer
    await proc.wait()
    assert 0 < len(acked_lists) < len(lists) and 0 < len(acked_batches) < len(batches), "no kill mid-way"

    proc = await start_collection(env, http_port, grpc_port)
    try:
        await asyncio.gather(send_lists([r for r in lists if r["msgid"] not in acked_lists] + lists[:10]),
                             send_records([b for b in range(len(batches)) if b not in acked_batches] + [0, 1]))
        assert len(acked_lists) == len(lists) and len(acked_batches) == len(batches)
        conn = await asyncpg.connect(database_url)
        try:
            for _ in range(120):  # the sweep joins what the kill interrupted
                left = await conn.fetchval("SELECT count(*) FROM collection.join_task")
                if left == 0:
                    break
                await asyncio.sleep(0.5)
            rows = await conn.fetch(
                "SELECT l.status, l.current_revision, "
                "(SELECT count(*) FROM collection.list_revision r WHERE r.list_id = l.list_id) AS revisions, "
                "(SELECT count(*) FROM collection.group_result g WHERE g.list_id = l.list_id) AS groups, "
                "(SELECT count(*) FROM collection.case_event e WHERE e.list_id = l.list_id) AS events, "
                "(SELECT r.current_revision FROM collection.settlement_record r "
                " WHERE r.fixmedins_code = l.fixmedins_code AND r.setl_id = l.setl_id) AS record_revision, "
                "(SELECT h.status FROM collection.status_history h WHERE h.list_id = l.list_id ORDER BY h.change_id "
                " LIMIT 1) AS first_status "
                "FROM collection.settlement_list l JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
                "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id",
                [r["fixmedins_code"] for r in lists], [r["input"]["setlinfo"]["setl_id"] for r in lists])
        finally:
            await conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert len(rows) == len(lists)
    first = [r["first_status"] for r in rows]
    assert first.count("PENDING") > 0 and first.count("ACTIVE") > 0  # lists before records and records before lists
    assert [(r["status"], r["current_revision"], r["revisions"], r["groups"], r["events"], r["record_revision"])
            for r in rows] == [("ACTIVE", 1, 1, 1, 1, 1)] * len(lists)
