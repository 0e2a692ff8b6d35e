"""Client channels: a deadline on every call, and retries with backoff only for idempotent methods.

Retries are gRPC's own (service config): they apply on UNAVAILABLE and only to the methods named
idempotent by the caller, so a retried call can never write twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import grpc

DEFAULT_DEADLINE_SECONDS = 30.0


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


def open_channel(address: str, idempotent_methods: Iterable[tuple[str, str]] = (),
                 token: str | None = None) -> grpc.aio.Channel:
    options: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", retry_service_config(idempotent_methods)),
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ]
    interceptors: list[Any] = [_DeadlineInterceptor(DEFAULT_DEADLINE_SECONDS, token)]
    return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)


if TYPE_CHECKING:  # generic in the stubs only
    _UnaryUnaryInterceptor = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
else:
    _UnaryUnaryInterceptor = grpc.aio.UnaryUnaryClientInterceptor


class _DeadlineInterceptor(_UnaryUnaryInterceptor):
    """Adds a default deadline (and the bearer token) to every unary call that has none."""

    def __init__(self, seconds: float, token: str | None) -> None:
        self._seconds = seconds
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        timeout = details.timeout if details.timeout is not None else self._seconds
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if self._token:
            metadata.add("authorization", f"Bearer {self._token}")
        new_details = grpc.aio.ClientCallDetails(details.method, timeout, metadata, details.credentials,
                                                 details.wait_for_ready)
        return await continuation(new_details, request)
