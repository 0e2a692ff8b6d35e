"""Reading collection's ``Case`` messages, as every consumer of the case feed (settlement, evaluation) must."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc

from ..dates import Period, date_from_proto
from ..errors import FailedPrecondition, InvalidArgument
from .streams import StreamConsumer
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


async def as_of_cases(stub: collection_grpc.CollectionServiceAsyncStub, request: collection_pb.StreamCasesRequest,
                      stream_deadline: float) -> AsyncIterator[tuple[int, list[collection_pb.Case]]]:
    """The as-of read (StreamCases) of a pinned sequence, in chunks (the sequence read at, the cases), through the
    stream consumer: a stream that
    breaks or outlives its deadline is opened again and the cases already handed over are skipped (a pinned
    sequence reads the same cases in the same order every time), so each case arrives once. gRPC errors that
    are not transient are raised as they are, for the caller to name. Sequence 0 (the head when the read starts)
    is read in one stream, without resuming: another read could see another head."""
    if request.as_of_sequence <= 0:
        async for message in stub.StreamCases(request, timeout=stream_deadline):
            yield message.as_of_sequence, list(message.cases)
        return

    async def chunks(after: int, timeout: float  # noqa: ASYNC109 - the consumer's deadline per stream
                     ) -> AsyncIterator[tuple[int, int, list[collection_pb.Case]]]:
        seen = 0
        async for message in stub.StreamCases(request, timeout=timeout):
            start, seen = seen, seen + len(message.cases)
            if seen > after:
                yield seen, message.as_of_sequence, list(message.cases)[max(0, after - start):]

    async for _, as_of, cases in StreamConsumer(chunks, cursor_of=lambda chunk: chunk[0], after=0,
                                                stream_deadline=stream_deadline):
        yield as_of, cases
