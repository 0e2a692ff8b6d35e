"""Turn a ``MedpayError`` into a gRPC status with ``google.rpc`` details (AIP-193)."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from ..errors import MedpayError


def to_rpc_status(error: MedpayError, domain: str) -> grpc.Status:
    details = []
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata)
    details.append(_pack(info))
    if error.violations:
        bad = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations])
        details.append(_pack(bad))
    status = status_pb2.Status(code=getattr(code_pb2, error.code), message=error.message, details=details)
    return rpc_status.to_status(status)


def internal_status(domain: str, request_id: str) -> grpc.Status:
    """An unexpected failure: no internals leak, the request id lets an operator find the log entry."""
    info = error_details_pb2.ErrorInfo(reason="INTERNAL", domain=domain, metadata={"request_id": request_id})
    status = status_pb2.Status(code=code_pb2.INTERNAL, details=[_pack(info)],
                               message=f"internal error; quote request id {request_id} to the operator")
    return rpc_status.to_status(status)


def _pack(message: error_details_pb2.ErrorInfo | error_details_pb2.BadRequest) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed
