"""gRPC server bootstrap on grpc.aio: health (NOT_SERVING while starting and draining), reflection,
interceptors, tracing, and graceful shutdown on SIGTERM/SIGINT with a grace period."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from ..config import Settings
from ..telemetry import configure_tracing, grpc_server_interceptors
from .interceptors import Authenticator, ServiceInterceptor, bearer_token_authenticator

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Large enough for a 10,000-case batch with traces."""


@dataclass
class ServiceSpec:
    """What a service contributes to a server: its name for health and tracing, how to add its servicers,
    the full names of its gRPC services (for health and reflection), and start/stop hooks."""

    name: str
    register: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    on_start: Callable[[], Awaitable[None]] | None = None
    on_stop: Callable[[], Awaitable[None]] | None = None
    options: list[tuple[str, Any]] = field(default_factory=list)


class RunningServer:
    """A started server; ``port`` is the bound port (useful with address ``127.0.0.1:0``)."""

    def __init__(self, server: grpc.aio.Server, health_servicer: HealthServicer,
                 spec: ServiceSpec, port: int, grace: float, *, probe: ProbeListener | None = None) -> None:
        self.server = server
        self.health = health_servicer
        self.spec = spec
        self.port = port
        self.grace = grace
        self.probe = probe

    async def stop(self) -> None:
        """Drain: report NOT_SERVING so load balancers stop sending, let in-flight RPCs finish, stop."""
        for name in ("", *self.spec.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(self.grace)
        if self.probe is not None:
            await self.probe.server.stop(0)
        if self.spec.on_stop is not None:
            await self.spec.on_stop()


async def start_server(spec: ServiceSpec, settings: Settings, address: str,
                       authenticate: Authenticator | None = None, reuse_port: bool = False) -> RunningServer:
    configure_tracing(settings, spec.name)
    if authenticate is None and settings.auth_token is not None:
        authenticate = bearer_token_authenticator(settings.auth_token.get_secret_value())
    interceptors = [*grpc_server_interceptors(settings), ServiceInterceptor(f"{spec.name}.medpay", authenticate)]
    # A service's own options replace the defaults (gRPC would honour the first of two equal keys).
    options = list({**{"grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
                       "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
                       "grpc.so_reuseport": 1 if reuse_port else 0}, **dict(spec.options)}.items())
    server = grpc.aio.server(interceptors=interceptors, options=options)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *spec.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    spec.register(server)
    reflection.enable_server_reflection((*spec.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    if spec.on_start is not None:
        await spec.on_start()
    probe = await start_probe_listener(settings.health_address, health_servicer, reuse_port)
    for name in ("", *spec.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("%s serving on port %d", spec.name, port, extra={"fields": {"service": spec.name, "port": port}})
    return RunningServer(server, health_servicer, spec, port, settings.grace_period_seconds,
                         probe=probe)


@dataclass
class ProbeListener:
    """A plaintext listener serving only grpc.health.v1, for kubelet's native gRPC probes (which cannot speak
    TLS). It shares the service's health servicer, so it reports NOT_SERVING while starting and draining, and it
    answers nothing else: no service method is reachable through it."""

    server: grpc.aio.Server
    port: int


async def start_probe_listener(address: str, health_servicer: HealthServicer,
                               reuse_port: bool = False) -> ProbeListener | None:
    """The probe listener on ``address`` (``MEDPAY_HEALTH_ADDRESS``), or ``None`` when it is not set."""
    if not address:
        return None
    server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if reuse_port else 0)])
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address} (health probes)")
    await server.start()
    return ProbeListener(server, port)


async def serve_until_signalled(running: RunningServer) -> None:
    """Block until SIGTERM or SIGINT, then drain gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("%s draining (grace %.1fs)", running.spec.name, running.grace)
    await running.stop()
