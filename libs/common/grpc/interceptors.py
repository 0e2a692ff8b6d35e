"""Request-wide concerns as grpc.aio server interceptors: request id, authentication, error mapping, logs."""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from grpc.aio import ServerInterceptor

from ..auth.context import check_request_scope, principal_var
from ..auth.roles import Principal
from ..errors import MedpayError, Unauthenticated
from ..logs import request_id_var
from ..telemetry import record_rpc
from .status import internal_status, to_rpc_status

log = logging.getLogger("medpay.rpc")

OPEN_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Methods reachable without credentials: probes and reflection."""

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any]"]]
Authenticator = Callable[[str, Mapping[str, str], Sequence[str]], Principal | None]
"""Called with (method, metadata, common names of the peer's verified certificate) before every guarded RPC;
answers the caller (or ``None`` when it names nobody) or raises ``Unauthenticated``/``PermissionDenied``.
``libs.common.auth.authorizer.TokenAuthorizer`` is the one used with ``MEDPAY_AUTH_DIR``."""


def bearer_token_authenticator(token: str) -> Authenticator:
    """Dev mode's optional shared secret (``MEDPAY_AUTH_TOKEN``, loopback only): names nobody."""
    expected = f"Bearer {token}"

    def authenticate(method: str, metadata: Mapping[str, str], peer_names: Sequence[str]) -> None:
        if not hmac.compare_digest(metadata.get("authorization", ""), expected):
            raise Unauthenticated("missing or wrong bearer token in the authorization metadata",
                                  reason="UNAUTHENTICATED")

    return authenticate


def peer_common_names(context: grpc.aio.ServicerContext[Any, Any]) -> list[str]:
    """The common names of the certificate the peer presented (verified by the TLS handshake); [] without TLS."""
    names = context.auth_context().get("x509_common_name", [])
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


if TYPE_CHECKING:  # the stubs make these generic; at run time they are plain classes
    _ServerInterceptor = ServerInterceptor[Any, Any]
else:
    _ServerInterceptor = ServerInterceptor


class ServiceInterceptor(_ServerInterceptor):
    """Wraps every unary and streaming handler: sets the request id, authenticates, maps errors, logs.

    One interceptor instead of four keeps the per-call cost to one wrapper.
    """

    def __init__(self, domain: str, authenticate: Authenticator | None = None) -> None:
        self._domain = domain
        self._authenticate = authenticate

    async def intercept_service(self, continuation: Continuation,
                                details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_METHODS):
            return handler
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, metadata),
                handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, metadata),
                handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method, metadata),
                handler.request_deserializer, handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(handler.stream_stream, method, metadata),
            handler.request_deserializer, handler.response_serializer)

    def _begin(self, method: str, metadata: dict[str, str], context: grpc.aio.ServicerContext[Any, Any]) -> str:
        request_id = metadata.get("x-request-id") or uuid.uuid4().hex
        request_id_var.set(request_id)
        context.set_trailing_metadata((("x-request-id", request_id),))
        principal_var.set(None)
        if self._authenticate is not None:
            principal_var.set(self._authenticate(method, metadata, peer_common_names(context)))
        return request_id

    def _wrap_unary(self, behavior: Any, method: str, metadata: dict[str, str]) -> Any:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            request_id = ""
            try:
                request_id = self._begin(method, metadata, context)
                check_request_scope(request)  # a unary request's region and institution are the caller's
                response = await behavior(request, context)
                self._log(method, "OK", started)
                return response
            except grpc.aio.AbortError:
                raise  # the servicer aborted deliberately; keep its status
            except MedpayError as error:
                await self._abort(context, method, error, started)
            except Exception:
                await self._abort_internal(context, method, request_id, started)

        return wrapper

    def _wrap_stream(self, behavior: Any, method: str, metadata: dict[str, str]) -> Any:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            request_id = ""
            try:
                request_id = self._begin(method, metadata, context)
                check_request_scope(request)  # an iterator of requests has no fields: each servicer scopes those
                async for response in behavior(request, context):
                    yield response
                self._log(method, "OK", started)
            except grpc.aio.AbortError:
                raise  # the servicer aborted deliberately; keep its status
            except MedpayError as error:
                await self._abort(context, method, error, started)
            except Exception:
                await self._abort_internal(context, method, request_id, started)

        return wrapper

    async def _abort(self, context: grpc.aio.ServicerContext[Any, Any], method: str, error: MedpayError,
                     started: float) -> None:
        self._log(method, error.code, started, reason=error.reason)
        status = to_rpc_status(error, self._domain)
        await context.abort(status.code, status.details, status.trailing_metadata)

    async def _abort_internal(self, context: grpc.aio.ServicerContext[Any, Any], method: str, request_id: str,
                              started: float) -> None:
        log.exception("unhandled error in %s", method)
        self._log(method, "INTERNAL", started)
        status = internal_status(self._domain, request_id)
        await context.abort(status.code, status.details, status.trailing_metadata)

    @staticmethod
    def _log(method: str, code: str, started: float, reason: str = "") -> None:
        seconds = time.perf_counter() - started
        record_rpc(method, code, seconds)
        fields = {"method": method, "code": code, "ms": round(seconds * 1000, 2)}
        if reason:
            fields["reason"] = reason
        log.info("rpc %s %s", method, code, extra={"fields": fields})
