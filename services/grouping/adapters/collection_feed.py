"""Collection's case feed as a DIP build reads it: ``StreamCases``, the as-of read of a region's periods."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import grpc
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from libs.common.config import Settings
from libs.common.dates import Period
from libs.common.errors import InvalidArgument, Unavailable
from libs.common.grpc.case_feed import as_of_cases
from libs.common.grpc.client import open_service_channel

from ..domain.dip.case import DipCase
from ..service_layer.dip_build import FeedCases

READ_DEADLINE_SECONDS = 3600.0
"""One as-of read of a region's base years: a million cases stream in well under this."""


class CollectionCaseFeed:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def head(self) -> int:
        """The feed's last published sequence (GetCaseFeed): what a build pins when it starts."""
        async with open_service_channel(self._settings, "collection") as channel:
            try:
                reply = await pb_grpc.CollectionServiceStub(channel).GetCaseFeed(pb.GetCaseFeedRequest())
            except grpc.aio.AioRpcError as failed:
                raise _upstream(failed) from None
        return int(reply.head_sequence)

    async def cases(self, region: str, periods: Sequence[Period], as_of_sequence: int) -> AsyncIterator[FeedCases]:
        """Chunks of (case, total cost in yuan) of the active lists; revoked lists are not base-year cases."""
        request = pb.StreamCasesRequest(region=region, settlement_periods=[p.to_proto() for p in periods],
                                        as_of_sequence=as_of_sequence)
        async with open_service_channel(self._settings, "collection",
                                        stream_deadline_seconds=READ_DEADLINE_SECONDS) as channel:
            stub = pb_grpc.CollectionServiceStub(channel)
            try:
                async for read_at, cases in as_of_cases(stub, request, READ_DEADLINE_SECONDS):
                    yield FeedCases([(DipCase(tuple(c.diagnosis_codes), tuple(c.procedure_codes)),
                                      Decimal(c.total_cost.fen).scaleb(-2))
                                     for c in cases if c.status == pb.LIST_STATUS_ACTIVE], read_at)
            except grpc.aio.AioRpcError as failed:
                raise _upstream(failed) from None


def _upstream(failed: grpc.aio.AioRpcError) -> InvalidArgument | Unavailable:
    if failed.code() == grpc.StatusCode.INVALID_ARGUMENT:  # e.g. a malformed region or period
        return InvalidArgument(f"collection service refused the read: {failed.details()}",
                               reason="UPSTREAM_REFUSED", metadata={"upstream": "collection"})
    return Unavailable(f"collection service: {failed.code().name} {failed.details()}",
                       reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "collection"})
