"""Helpers for the benchmarks: a scratch database, service processes, timing."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    configured = os.environ.get("MEDPAY_REFERENCE_DIR")
    if configured:
        return Path(configured)
    shared = ROOT.parent / "shared"
    if (shared / "codes").is_dir():
        return shared
    sys.exit("benchmarks need the full reference material: set MEDPAY_REFERENCE_DIR or put ../shared beside")


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@contextmanager
def service_process(name: str, env: dict[str, str]) -> Iterator[str]:
    """``medpay serve NAME`` in its own process (one server process, as the targets are stated)."""
    address = free_address()
    full_env = {**os.environ, "MEDPAY_LOG_LEVEL": "WARNING", **env}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", name, "--address", address],
                            env=full_env, cwd=ROOT)
    try:
        asyncio.run(_wait(address))
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _wait(address: str) -> None:
    deadline = time.monotonic() + 120
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                if (await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)).status == 1:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(address)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh database: on MEDPAY_DATABASE_URL's server when set, else on an embedded server."""
    from libs.common.db.embedded import embedded_url
    from tests.support import create_database, drop_database

    with tempfile.TemporaryDirectory() as tmp:
        admin = os.environ.get("MEDPAY_DATABASE_URL") or embedded_url(Path(tmp))
        url, name = asyncio.run(create_database(admin))
        try:
            yield url
        finally:
            asyncio.run(drop_database(admin, name))


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
