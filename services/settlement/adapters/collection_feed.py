"""Collection's case feed as a settlement run reads it: the head, and the as-of read of a region's periods
through the platform's stream consumer (a broken or expired stream is opened again and resumes after the cases
already received: the as-of read at a pinned sequence returns the same cases in the same order every time)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc

from libs.common.dates import Period
from libs.common.grpc.case_feed import as_of_cases, case_dates, feed_head
from libs.common.grpc.upstream import upstream_error

from ..domain.collected import CollectedCase
from ..domain.policies import GroupScheme

STREAM_DEADLINE_SECONDS = 600.0


_KINDS = {collection_pb.GROUP_KIND_DRG: GroupScheme.DRG, collection_pb.GROUP_KIND_DIP: GroupScheme.DIP}


class CollectionFeed:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = collection_grpc.CollectionServiceStub(channel)

    async def head(self) -> int:
        return await feed_head(self._stub)

    async def cases(self, region: str, periods: Sequence[Period], sequence: int) -> AsyncIterator[list[CollectedCase]]:
        """Chunks of every case of the region's periods as of ``sequence`` (not 0: pin the head first), revoked
        and pending ones included with ``active`` false."""
        request = collection_pb.StreamCasesRequest(region=region, as_of_sequence=sequence,
                                                   settlement_periods=[p.to_proto() for p in periods])
        try:
            async for _, cases in as_of_cases(self._stub, request, STREAM_DEADLINE_SECONDS):
                yield [feed_case(c) for c in cases]
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("collection", failed) from None


def feed_case(case: collection_pb.Case) -> CollectedCase:
    admission, discharge, month = case_dates(case)
    return CollectedCase(
        list_id=case.setl_list_id, revision=case.revision, active=case.status == collection_pb.LIST_STATUS_ACTIVE,
        hospital=case.fixmedins_code, hospital_level=case.hospital_level, month=month, psn_no=case.psn_no,
        admission=admission, discharge=discharge,
        groups=tuple((_KINDS[g.kind], g.scheme_id, g.code) for g in case.groups if g.kind in _KINDS),
        total_fen=case.total_cost.fen, fund_fen=case.fund_paid.fen, personal_fen=case.personal_paid.fen)
