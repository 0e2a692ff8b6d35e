"""Services as child processes (the demo, benchmarks and tests run them so): free ports, start, wait, stop.

``start_services(["collection"], env)`` starts what the registry says collection needs (coding, grouping) and
then collection, each on a free port. Every port is chosen before the first process starts and every service gets
the addresses of all of them (``MEDPAY_<NAME>_ADDRESS``): a service also calls some that start after it
(``also_calls``: collection's 3101 asks evaluation, settlement's clearing reads review's deductions). An HTTP door
(``HttpDoor``) gets a free port too. With ``MEDPAY_AUTH_DIR`` in
``env`` the services serve mutual TLS (and the HTTP door HTTPS); readiness is checked with the tools' certificate.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from libs.common.auth.material import AuthMaterial
from libs.common.registry import Registry, services

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_address() -> str:
    """A loopback address with a port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@dataclass(frozen=True)
class Started:
    """A service process started by ``start_services``: its gRPC address and, when it has one, its HTTP door."""

    name: str
    address: str
    http_address: str = ""


@contextmanager
def start_services(names: Iterable[str], env: dict[str, str],
                   registry: Registry | None = None) -> Iterator[dict[str, Started]]:
    """The named services and their dependencies as processes, in dependency order, until the block ends.

    ``env`` is the environment all of them get (database URL, reference directory, token ...) with every
    started service's address. Yields ``{name: Started}``; stops them in reverse order.
    """
    registry = registry or services()
    started: dict[str, Started] = {}
    order = registry.start_order(names)
    addresses = {name: free_address() for name in order}
    shared = {**env, **{registry.get(name).address_env: addresses[name] for name in order}}
    with ExitStack() as stack:
        for name in order:
            declaration = registry.get(name)
            own: dict[str, str] = {}
            http_health = http_address = ""
            if declaration.http is not None:
                http_address = free_address()
                own[f"MEDPAY_{declaration.http.address_setting.upper()}"] = http_address
                scheme = "https" if shared.get("MEDPAY_AUTH_DIR") else "http"
                http_health = f"{scheme}://{http_address}{declaration.http.health_path}"
            address = stack.enter_context(service_process(name, {**shared, **own}, http_health=http_health,
                                                          address=addresses[name]))
            started[name] = Started(name, address, http_address)
        yield started


@contextmanager
def service_process(name: str, env: dict[str, str], http_health: str = "", address: str = "") -> Iterator[str]:
    """``medpay serve NAME`` on ``address`` (default: a free port) until the block ends (then SIGTERM: a graceful
    drain).

    Yields the gRPC address once health reports SERVING (and ``http_health`` answers 200, when given). The
    child logs warnings only unless ``env`` says otherwise."""
    address = address or free_address()
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", name, "--address", address],
                            env={**os.environ, "MEDPAY_LOG_LEVEL": "WARNING", **env}, cwd=PROJECT_ROOT)
    auth_dir = env.get("MEDPAY_AUTH_DIR")
    try:
        asyncio.run(wait_serving(address, proc, http_health, auth_dir=Path(auth_dir) if auth_dir else None))
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def wait_serving(address: str, proc: subprocess.Popen[bytes], http_health: str = "",
                       limit_seconds: float = 90, auth_dir: Path | None = None) -> None:
    deadline = time.monotonic() + limit_seconds
    material = AuthMaterial.load(auth_dir) if auth_dir is not None else None
    channel = (grpc.aio.secure_channel(address, material.channel_credentials()) if material is not None
               else grpc.aio.insecure_channel(address))
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=auth_dir / "ca.pem") if auth_dir else True
    async with channel, httpx.AsyncClient(verify=verify) as web:
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
