"""Domain errors become google.rpc.Status with ErrorInfo and BadRequest details."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from libs.common.errors import InvalidArgument, NotFound, check_batch_size
from libs.common.grpc.status import to_rpc_status


def details(status: grpc.Status) -> status_pb2.Status:
    raw = dict(status.trailing_metadata)["grpc-status-details-bin"]
    return status_pb2.Status.FromString(raw)


def test_invalid_field_carries_error_info_and_bad_request() -> None:
    status = to_rpc_status(InvalidArgument.field("code_system", "must not be empty"), "coding.medpay")
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    rich = details(status)
    assert rich.details[0].Unpack(info) and rich.details[1].Unpack(bad)
    assert (info.reason, info.domain) == ("INVALID_FIELD", "coding.medpay")
    assert bad.field_violations[0].field == "code_system"


def test_not_found_has_its_code_and_reason() -> None:
    status = to_rpc_status(NotFound("no such", reason="CODE_SYSTEM_NOT_FOUND"), "coding.medpay")
    info = error_details_pb2.ErrorInfo()
    details(status).details[0].Unpack(info)
    assert status.code is grpc.StatusCode.NOT_FOUND and info.reason == "CODE_SYSTEM_NOT_FOUND"


def test_batch_limit_names_the_limit() -> None:
    check_batch_size("codes", 10_000, 10_000)
    try:
        check_batch_size("codes", 10_001, 10_000)
    except InvalidArgument as error:
        assert error.reason == "BATCH_TOO_LARGE" and "10,000" in error.message
    else:
        raise AssertionError("no error for an oversize batch")
