"""Client channels between services: every call, of all four kinds, gets a deadline and the bearer token;
retries with backoff only for the methods the caller names idempotent.

    channel = open_service_channel(runtime.settings, "collection",
                                   idempotent_methods=[("medpay.collection.v1.CollectionService", "GetSettlementList")])
    stub = collection_grpc.CollectionServiceStub(channel)
    reply = await stub.GetSettlementList(request)            # deadline 30 s, authorization: Bearer <token>
    async for event in stub.StreamCaseEvents(request, timeout=600):   # a stream: the same, own deadline
        ...

With ``MEDPAY_AUTH_DIR`` set the channel is mutual TLS (this process's certificate, the platform CA) and the
token is this service's own ``service`` token, renewed before it expires (``CallerAuth``); without it, a plain
channel with ``MEDPAY_AUTH_TOKEN`` when set. Clients built from an address take ``auth=caller_auth(settings)``.

A call that passes ``timeout=`` keeps it; one that passes none gets the channel's default (unary calls
``deadline_seconds``; streams ``stream_deadline_seconds``, by default the same). A long read of a stream is better
done with ``libs.common.grpc.streams`` (a consumer that resumes from its cursor when a stream's deadline ends).
Retries are gRPC's own (service config): on UNAVAILABLE and only for the named methods, so a retried call can
never write twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from ..telemetry import inject_trace_context

if TYPE_CHECKING:
    from ..config import Settings

DEFAULT_DEADLINE_SECONDS = 30.0
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def retry_service_config(idempotent_methods: Iterable[tuple[str, str]]) -> str:
    """A service config retrying the given (service, method) pairs on UNAVAILABLE with exponential backoff."""
    names = [{"service": service, "method": method} for service, method in idempotent_methods]
    if not names:
        return json.dumps({"methodConfig": []})
    return json.dumps({"methodConfig": [{
        "name": names,
        "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s", "maxBackoff": "2s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]},
    }]})


TokenSource = str | Callable[[], str] | None
"""A fixed token, or a function answering the current one (a service token renewed before it expires)."""


@dataclass(frozen=True)
class CallerAuth:
    """How a process's channels authenticate: TLS credentials (None: plaintext, dev mode) and a token."""

    token: TokenSource = None
    credentials: grpc.ChannelCredentials | None = None


def caller_auth(settings: Settings, identity: str | None = None) -> CallerAuth:
    """This process's caller identity: with ``MEDPAY_AUTH_DIR``, the certificate of ``identity`` (default
    ``settings.auth_identity``, else the tools' ``client``) and its service token (issued here when the directory
    holds the signing key, else ``MEDPAY_AUTH_TOKEN``); without it, ``MEDPAY_AUTH_TOKEN`` over plaintext."""
    static = settings.auth_token.get_secret_value() if settings.auth_token else None
    if settings.auth_dir is None:
        return CallerAuth(static)
    from ..auth.material import AuthMaterial
    from ..auth.pki import CLIENT

    material = AuthMaterial.load(settings.auth_dir)
    name = identity or settings.auth_identity or CLIENT
    token: TokenSource = static
    if name != CLIENT and material.can_sign():
        token = material.service_tokens(name)
    return CallerAuth(token, material.channel_credentials(name))


def open_channel(address: str, idempotent_methods: Iterable[tuple[str, str]] = (), token: TokenSource = None, *,
                 deadline_seconds: float = DEFAULT_DEADLINE_SECONDS, stream_deadline_seconds: float | None = None,
                 auth: CallerAuth | None = None) -> grpc.aio.Channel:
    """A channel to ``address`` whose calls carry a default deadline and, when a token is given (``token`` or
    ``auth.token``), ``authorization: Bearer <token>`` (unary-unary, unary-stream, stream-unary and
    stream-stream alike); TLS when ``auth`` has credentials."""
    if auth is not None:
        token = token or auth.token
    options: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", retry_service_config(idempotent_methods)),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    defaults = CallDefaults(deadline_seconds, stream_deadline_seconds or deadline_seconds, token)
    if auth is not None and auth.credentials is not None:
        return grpc.aio.secure_channel(address, auth.credentials, options=options,
                                       interceptors=defaults.interceptors())
    return grpc.aio.insecure_channel(address, options=options, interceptors=defaults.interceptors())


def open_service_channel(settings: Settings, service: str, idempotent_methods: Iterable[tuple[str, str]] = (),
                         **kwargs: Any) -> grpc.aio.Channel:
    """A channel to another medpay service at its configured address (``MEDPAY_<SERVICE>_ADDRESS``) as this
    process (``caller_auth``: mutual TLS and the service token with ``MEDPAY_AUTH_DIR``)."""
    return open_channel(settings.address_of(service), idempotent_methods, auth=caller_auth(settings), **kwargs)


if TYPE_CHECKING:  # generic in the stubs only
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
    _StreamUnary = grpc.aio.StreamUnaryClientInterceptor[Any, Any]
    _StreamStream = grpc.aio.StreamStreamClientInterceptor[Any, Any]
else:
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor
    _StreamUnary = grpc.aio.StreamUnaryClientInterceptor
    _StreamStream = grpc.aio.StreamStreamClientInterceptor


class CallDefaults:
    """Adds the default deadline (when a call has none) and the bearer token to a call's details.

    grpc.aio files each interceptor under the first call kind it is an instance of, so one class cannot serve
    all four: ``interceptors()`` gives one small interceptor per kind sharing these defaults.
    """

    def __init__(self, unary_seconds: float, stream_seconds: float, token: TokenSource) -> None:
        self.unary_seconds = unary_seconds
        self.stream_seconds = stream_seconds
        self._token = token

    def details(self, details: grpc.aio.ClientCallDetails, default_seconds: float) -> grpc.aio.ClientCallDetails:
        timeout = details.timeout if details.timeout is not None else default_seconds
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        token = self._token() if callable(self._token) else self._token
        if token and "authorization" not in metadata:
            metadata.add("authorization", f"Bearer {token}")
        inject_trace_context(metadata)  # the caller's trace continues in the callee
        return grpc.aio.ClientCallDetails(details.method, timeout, metadata, details.credentials,
                                          details.wait_for_ready)

    def interceptors(self) -> list[Any]:
        return [_UnaryUnaryDefaults(self), _UnaryStreamDefaults(self), _StreamUnaryDefaults(self),
                _StreamStreamDefaults(self)]


class _UnaryUnaryDefaults(_UnaryUnary):
    def __init__(self, defaults: CallDefaults) -> None:
        self._d = defaults

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._d.details(details, self._d.unary_seconds), request)


class _UnaryStreamDefaults(_UnaryStream):
    def __init__(self, defaults: CallDefaults) -> None:
        self._d = defaults

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._d.details(details, self._d.stream_seconds), request)


class _StreamUnaryDefaults(_StreamUnary):
    def __init__(self, defaults: CallDefaults) -> None:
        self._d = defaults

    async def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._d.details(details, self._d.stream_seconds), request_iterator)


class _StreamStreamDefaults(_StreamStream):
    def __init__(self, defaults: CallDefaults) -> None:
        self._d = defaults

    async def intercept_stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(self._d.details(details, self._d.stream_seconds), request_iterator)
