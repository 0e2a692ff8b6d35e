"""Reading collection's ``Case`` messages, as every consumer of the case feed (settlement, evaluation) must."""

from __future__ import annotations

from datetime import date

import grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc

from ..dates import Period, date_from_proto
from ..errors import FailedPrecondition, InvalidArgument
from .upstream import upstream_error

HEAD_DEADLINE_SECONDS = 30.0


async def feed_head(stub: collection_grpc.CollectionServiceAsyncStub) -> int:
    """The case feed's head (GetCaseFeed): the sequence a run pins before its as-of read. Collection not
    answering is UNAVAILABLE ``UPSTREAM_UNAVAILABLE``; a refusal keeps collection's code and reason."""
    try:
        reply = await stub.GetCaseFeed(collection_pb.GetCaseFeedRequest(), timeout=HEAD_DEADLINE_SECONDS)
    except grpc.aio.AioRpcError as failed:
        raise upstream_error("collection", failed) from None
    return int(reply.head_sequence)


def case_dates(case: collection_pb.Case) -> tuple[date, date, str]:
    """Admission, discharge and settlement month (``YYYY-MM``) of a fed case; a case without them is
    FAILED_PRECONDITION ``INVALID_CASE``: the feed broke its contract, the consumer's request is fine."""
    admission = date_from_proto(case.admission_date, "case.admission_date")
    discharge = date_from_proto(case.discharge_date, "case.discharge_date")
    if admission is None or discharge is None:
        raise FailedPrecondition(f"case {case.setl_list_id} has no admission or discharge date",
                                 reason="INVALID_CASE", metadata={"setl_list_id": case.setl_list_id})
    try:
        month = str(Period.from_proto(case.settlement_month, "case.settlement_month", allow_year=False))
    except InvalidArgument as bad:
        raise FailedPrecondition(f"case {case.setl_list_id}: {bad.message}", reason="INVALID_CASE") from None
    return admission, discharge, month
