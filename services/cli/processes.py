"""Services as child processes (the demo, benchmarks and tests run them so): free ports, start, wait, stop."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_address() -> str:
    """A loopback address with a port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@contextmanager
def service_process(name: str, env: dict[str, str], http_health: str = "") -> Iterator[str]:
    """``medpay serve NAME`` on a free port until the block ends (then SIGTERM: a graceful drain).

    Yields the gRPC address once health reports SERVING (and ``http_health`` answers 200, when given). The
    child logs warnings only unless ``env`` says otherwise."""
    address = free_address()
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", name, "--address", address],
                            env={**os.environ, "MEDPAY_LOG_LEVEL": "WARNING", **env}, cwd=PROJECT_ROOT)
    try:
        asyncio.run(wait_serving(address, proc, http_health))
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def wait_serving(address: str, proc: subprocess.Popen[bytes], http_health: str = "",
                       limit_seconds: float = 90) -> None:
    deadline = time.monotonic() + limit_seconds
    async with grpc.aio.insecure_channel(address) as channel, httpx.AsyncClient() as web:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the service on {address} exited with code {proc.returncode}")
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING and (
                        not http_health or (await web.get(http_health, timeout=1)).status_code == 200):
                    return
            except (grpc.aio.AioRpcError, httpx.HTTPError):
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the service on {address} did not become SERVING in {limit_seconds:.0f}s")
