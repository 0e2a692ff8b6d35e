"""Errors of another medpay service, as the caller's own: the reason the other service gave survives (a run that
reads collection's feed fails with collection's reason, named as collection's)."""

from __future__ import annotations

import grpc
from grpc_status import rpc_status

from ..errors import FailedPrecondition, InvalidArgument, MedpayError, NotFound, Unavailable

_TRANSIENT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


def upstream_error(service: str, failed: grpc.aio.AioRpcError) -> MedpayError:
    """UNAVAILABLE (``UPSTREAM_UNAVAILABLE``) when the other service did not answer; otherwise an error with its
    code and reason and the other service named."""
    metadata = {"upstream": service}
    message = f"{service}: {failed.details() or failed.code().name}"
    if failed.code() in _TRANSIENT:
        return Unavailable(f"{service} did not answer ({failed.code().name})", reason="UPSTREAM_UNAVAILABLE",
                           metadata=metadata)
    reason = _reason(failed) or f"UPSTREAM_{failed.code().name}"
    if failed.code() == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(message, reason=reason, metadata=metadata)
    if failed.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(message, reason=reason, metadata=metadata)
    return FailedPrecondition(message, reason=reason, metadata=metadata)


def _reason(failed: grpc.aio.AioRpcError) -> str:
    from google.rpc import error_details_pb2

    try:
        status = rpc_status.from_call(failed)  # type: ignore[arg-type]
    except (ValueError, AttributeError):
        return ""
    if status is None:
        return ""
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""
