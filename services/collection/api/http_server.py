"""The HTTP server of the national door: uvicorn, guarded against connection floods and slow clients.

- **Connection cap**: at most ``max_connections`` open connections per process; one more is answered 503 (a
  national envelope) and closed at once, so sockets never pile up to exhaust file descriptors. The process's
  descriptor limit is raised to its hard limit, and the cap kept below it.
- **Header timeout**: a connection must complete a request's headers within ``header_timeout_seconds`` of
  opening (or of its previous answer), or it is closed: idle and slowly-talking sockets do not stay.
- **Keep-alive**: an idle connection between requests is closed after ``keepalive_seconds``.
  (The body timeout is the door's own: ``DoorPolicy.body_timeout_seconds``, answered 408.)
- **Workers**: with ``reuse_port`` the listening socket is bound with SO_REUSEPORT, so N processes share the
  port (``medpay serve collection --workers N``); without it a port in use is an error, never a silent loss.
- **TLS**: ``ssl_context`` is the hook (the security setup provides the context); None serves plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import ssl
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
_FD_RESERVE = 256
"""Descriptors kept for everything but HTTP connections (database pool, gRPC, files)."""


@dataclass(frozen=True)
class HttpDoorConfig:
    address: str
    max_connections: int = 1000
    header_timeout_seconds: float = 10.0
    keepalive_seconds: float = 5.0
    reuse_port: bool = False
    ssl_context: ssl.SSLContext | None = None


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection cap and a header timeout (configured per server by
    ``_guarded``)."""

    max_connections = 1000
    header_timeout = 10.0
    busy: Callable[[], tuple[int, bytes]] = staticmethod(lambda: (503, b""))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            self._refused = True
            self.transport = transport
            transport.write(_raw_response(*self.busy()))
            transport.close()
            return
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def _raw_response(status: int, body: bytes) -> bytes:
    reason = {200: b"OK", 503: b"Service Unavailable"}.get(status, b"Error")
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
            % (status, reason, len(body)) + body)


def _guarded(max_connections: int, header_timeout: float, busy: Callable[[], tuple[int, bytes]]
             ) -> type[GuardedProtocol]:
    return type("GuardedProtocolInstance", (GuardedProtocol,), {
        "max_connections": max_connections, "header_timeout": header_timeout, "busy": staticmethod(busy)})


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service's gRPC server owns SIGTERM and drains both doors."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpDoor:
    """The running HTTP server of one process: ``start`` binds (or raises why it cannot), ``stop`` drains."""

    def __init__(self, app: Any, config: HttpDoorConfig, busy: Callable[[], tuple[int, bytes]]) -> None:
        self.config = config
        cap = _connection_cap(config.max_connections)
        context = config.ssl_context
        self._server = _Server(uvicorn.Config(
            app, http=_guarded(cap, config.header_timeout_seconds, busy), log_level="warning",
            lifespan="off", access_log=False, timeout_keep_alive=max(1, round(config.keepalive_seconds)),
            log_config=None,  # uvicorn's records go through medpay's handler (JSON, personal data redacted)
            ssl_context_factory=(lambda cfg, default: context) if context is not None else None,
            backlog=min(2048, cap)))
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1]) if self._socket else 0

    async def start(self) -> None:
        self._socket = bind(self.config.address, reuse_port=self.config.reuse_port)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why the server could not start
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        if self._socket is not None:
            self._socket.close()


def bind(address: str, *, reuse_port: bool) -> socket.socket:
    """A listening TCP socket on ``host:port``; with ``reuse_port``, SO_REUSEPORT (refused where the platform
    lacks it). A port already in use raises ``OSError`` naming the address."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            if not hasattr(socket, "SO_REUSEPORT"):
                raise OSError("SO_REUSEPORT is not available on this platform: run one worker per port")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, int(port)))
        sock.listen(2048)
        sock.setblocking(False)
    except OSError as failed:
        sock.close()
        raise OSError(failed.errno, f"cannot listen on {address}: {failed.strerror or failed}") from None
    return sock


def _connection_cap(wanted: int) -> int:
    """``wanted``, within the descriptors this process may open (the soft limit is raised to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft == resource.RLIM_INFINITY or wanted + _FD_RESERVE <= soft:
        return wanted
    cap = max(16, soft - _FD_RESERVE)
    log.warning("HTTP connection cap lowered from %d to %d: the process may open %d descriptors", wanted, cap, soft)
    return cap
