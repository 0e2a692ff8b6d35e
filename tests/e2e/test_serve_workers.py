"""`medpay serve collection --workers N` as a process: N workers on both doors, or a refusal that says why."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from libs.common.grpc.server import RunningServer
from libs.common.runtime import Runtime
from services.cli.processes import wait_serving

from ..support import ROOT, free_port
from .lists import fresh


def env_for(runtime: Runtime, database_url: str, coding: RunningServer, grouping: RunningServer,
            http_port: int, **extra: str) -> dict[str, str]:
    return {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
            "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding.port}",
            "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping.port}",
            "MEDPAY_COLLECTION_HTTP_ADDRESS": f"127.0.0.1:{http_port}", "MEDPAY_LOG_LEVEL": "ERROR", **extra}


def listeners(port: int) -> int:
    """Listening TCP sockets on ``port`` (SO_REUSEPORT: one per worker)."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def serve(env: dict[str, str], grpc_port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "collection", "--address",
                             f"127.0.0.1:{grpc_port}", "--workers", str(workers)], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE)


async def test_two_workers_serve_both_doors(runtime: Runtime, database_url: str, coding_server: RunningServer,
                                            grouping_server: RunningServer) -> None:
    grpc_port, http_port = free_port(), free_port()
    proc = serve(env_for(runtime, database_url, coding_server, grouping_server, http_port), grpc_port, 2)
    try:
        await wait_serving(f"127.0.0.1:{grpc_port}", proc, f"http://127.0.0.1:{http_port}/healthz", 120)
        for _ in range(100):  # the second worker may still be starting when the first answers
            if listeners(grpc_port) == 2 and listeners(http_port) == 2:
                break
            await asyncio.sleep(0.2)
        assert (listeners(grpc_port), listeners(http_port)) == (2, 2)
        request = next(r for r, _ in fresh(seed=81, cases=40))
        blocks: set[int] = set()
        for _ in range(40):  # a new connection each time: the kernel spreads them over the workers
            async with httpx.AsyncClient(timeout=30) as client:
                reply: dict[str, Any] = (await client.post(f"http://127.0.0.1:{http_port}/api/v1/hsa",
                                                           json={**request, "infno": "9001", "input": {}})).json()
            blocks.add(int(reply["inf_refmsgid"][20:]) // 10_000)
        assert len(blocks) == 2  # each worker numbers its answers from its own serial block
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, timeout=60) == 0


def test_a_taken_port_is_refused_before_any_worker_starts(runtime: Runtime, database_url: str,
                                                          coding_server: RunningServer,
                                                          grouping_server: RunningServer) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        http_port = holder.getsockname()[1]
        proc = serve(env_for(runtime, database_url, coding_server, grouping_server, http_port), free_port(), 2)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and f"cannot listen on 127.0.0.1:{http_port}" in err.decode()


async def test_a_worker_that_cannot_start_stops_the_set(runtime: Runtime, database_url: str,
                                                        coding_server: RunningServer,
                                                        grouping_server: RunningServer) -> None:
    env = env_for(runtime, database_url, coding_server, grouping_server, free_port(),
                  MEDPAY_GATEWAY_KEYS="pa:se:cr:et:H1")
    proc = serve(env, free_port(), 2)
    _, err = await asyncio.to_thread(proc.communicate, timeout=120)  # the loop keeps serving coding and grouping
    text = err.decode()
    assert proc.returncode == 2 and "before serving" in text, text
    assert "institution code of paasid 'pa' must be H + 11 digits" in text and "se:cr:et" not in text
    assert "Traceback" not in text
