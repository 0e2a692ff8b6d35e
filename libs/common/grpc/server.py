"""gRPC server bootstrap on grpc.aio: health (NOT_SERVING while starting and draining), reflection,
interceptors, tracing, and graceful shutdown on SIGTERM/SIGINT with a grace period.

Two modes. With ``MEDPAY_AUTH_DIR`` set the server listens with TLS and requires a client certificate of the
same CA (mutual TLS), and every RPC but health and reflection needs a token whose role the method's access table
allows (``libs.common.auth``). Without it the server is in **dev mode**: it listens on a loopback address only
(any other address is refused with ``DevModeError``) and says so in its first log line (``announce_mode``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from ..auth.authorizer import TokenAuthorizer
from ..auth.material import AuthMaterial
from ..auth.roles import AuthConfigError, Role
from ..config import Settings
from ..registry import services
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
                 spec: ServiceSpec, port: int, grace: float, *, probes: grpc.aio.Server | None = None,
                 probe_port: int = 0) -> None:
        self.server = server
        self.health = health_servicer
        self.spec = spec
        self.port = port
        self.grace = grace
        self.probes = probes
        self.probe_port = probe_port

    async def stop(self) -> None:
        """Drain: report NOT_SERVING so load balancers stop sending, let in-flight RPCs finish, stop."""
        for name in ("", *self.spec.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(self.grace)
        if self.probes is not None:
            await self.probes.stop(0)
        if self.spec.on_stop is not None:
            await self.spec.on_stop()


class DevModeError(AuthConfigError):
    """A dev-mode server (no ``MEDPAY_AUTH_DIR``) asked to listen on a non-loopback address."""


def is_loopback(address: str) -> bool:
    """Whether ``host:port`` names a loopback host (127.0.0.0/8, ::1, localhost); 0.0.0.0 and [::] do not."""
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def announce_mode(settings: Settings, service: str, address: str) -> None:
    """Check and log the security mode; called first thing by ``medpay serve`` so it is the first log line.
    Raises ``DevModeError`` for a dev-mode server on a non-loopback address."""
    if settings.auth_dir is not None:
        AuthMaterial.load(settings.auth_dir)  # fails early on a directory without the material
        log.info("%s: auth on: mutual TLS and signed tokens from %s", service, settings.auth_dir)
        return
    if not is_loopback(address):
        raise DevModeError(f"dev mode (MEDPAY_AUTH_DIR unset) serves loopback addresses only, not {address}; "
                           f"create credentials with `medpay auth init --out DIR` and set MEDPAY_AUTH_DIR=DIR")
    log.warning("%s: DEV MODE: MEDPAY_AUTH_DIR unset, so no TLS and no tokens; listening on loopback only (%s)",
                service, address)


async def start_server(spec: ServiceSpec, settings: Settings, address: str,
                       authenticate: Authenticator | None = None, reuse_port: bool = False, *,
                       access: Mapping[str, frozenset[Role]] | None = None) -> RunningServer:
    """Start ``spec`` on ``address`` in the mode the settings say. ``access`` replaces the registry's access
    tables (tests of servers that are not declared services)."""
    configure_tracing(settings, spec.name)
    material = AuthMaterial.load(settings.auth_dir) if settings.auth_dir is not None else None
    if material is None and not is_loopback(address):
        raise DevModeError(f"dev mode (MEDPAY_AUTH_DIR unset) serves loopback addresses only, not {address}")
    if authenticate is None and material is not None:
        authenticate = TokenAuthorizer(material.verifier(),
                                       access if access is not None else services().access_table())
    elif authenticate is None and settings.auth_token is not None:
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
    if material is not None:
        port = server.add_secure_port(address, material.server_credentials(spec.name))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    if spec.on_start is not None:
        await spec.on_start()
    for name in ("", *spec.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    probes, probe_port = await _probe_server(health_servicer, settings.health_address, reuse_port)
    log.info("%s serving on port %d", spec.name, port, extra={"fields": {"service": spec.name, "port": port}})
    return RunningServer(server, health_servicer, spec, port, settings.grace_period_seconds,
                         probes=probes, probe_port=probe_port)


async def _probe_server(health_servicer: HealthServicer, address: str,
                        reuse_port: bool) -> tuple[grpc.aio.Server | None, int]:
    """``MEDPAY_HEALTH_ADDRESS``: the health service alone in plaintext, for probes that cannot speak mutual TLS
    (kubelet's native gRPC probes). It serves nothing else, so it may listen beyond loopback."""
    if not address:
        return None, 0
    probes = grpc.aio.server(options=[("grpc.so_reuseport", 1 if reuse_port else 0)])
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, probes)
    port = probes.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address} (MEDPAY_HEALTH_ADDRESS)")
    await probes.start()
    return probes, port


def stop_requested() -> asyncio.Event:
    """An event SIGTERM or SIGINT sets from now on. Installed before the server starts: a gRPC server answers
    from ``server.start()`` on, and a SIGTERM between that and the handlers would kill it outright, with no drain
    and no flush of its spans."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_until_signalled(running: RunningServer, stop: asyncio.Event | None = None) -> None:
    """Block until SIGTERM or SIGINT (``stop``, from :func:`stop_requested` before the start), then drain
    gracefully."""
    stop = stop or stop_requested()
    await stop.wait()
    log.info("%s draining (grace %.1fs)", running.spec.name, running.grace)
    await running.stop()
