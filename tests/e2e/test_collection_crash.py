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


async def start_collection(env: dict[str, str], http_port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "serve", "collection", "--address", f"127.0.0.1:{free_port()}",
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
