"""Collection's case feed as an evaluation run reads it: the head, the as-of read of a region's months, when
each list was first accepted (for upload timeliness), and the upload QC statistics per institution (for the QC pass
rate)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.common.v1 import common_pb2 as common_pb

from libs.common.dates import Period, date_to_proto
from libs.common.errors import MedpayError
from libs.common.grpc.case_feed import as_of_cases, case_dates, feed_head
from libs.common.grpc.streams import StreamConsumer
from libs.common.paging import every_page

from .upstream import upstream_error

STREAM_DEADLINE_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class FeedCase:
    """What evaluation reads of a collected case."""

    list_id: str
    active: bool
    hospital: str
    hospital_level: int
    month: str
    psn_no: str
    admission: date
    discharge: date
    los: int
    discharge_way: str
    department: str
    doctor: str
    groups: tuple[tuple[str, str, str], ...]
    """(scheme id, scheme version, group code), most recently grouped first."""
    total_fen: int


class CollectionFeed:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = collection_grpc.CollectionServiceStub(channel)

    async def head(self) -> int:
        return await feed_head(self._stub)

    async def cases(self, region: str, months: Sequence[Period], sequence: int) -> AsyncIterator[FeedCase]:
        """Every case of the region's months as of ``sequence`` (revoked ones included, ``active`` false)."""
        request = collection_pb.StreamCasesRequest(region=region, as_of_sequence=sequence,
                                                   settlement_periods=[m.to_proto() for m in months])
        try:
            async for _, cases in as_of_cases(self._stub, request, STREAM_DEADLINE_SECONDS):
                for case in cases:
                    yield _feed_case(case)
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("collection", failed) from None

    async def first_accepted(self, region: str, months: Sequence[Period], up_to: int) -> dict[str, datetime]:
        """When each list of the region's months was first accepted, from the feed's events up to ``up_to``."""
        periods = [m.to_proto() for m in months]
        consumer = StreamConsumer(
            lambda after, timeout: self._stub.StreamCaseEvents(collection_pb.StreamCaseEventsRequest(
                region=region, after_sequence=after, settlement_periods=periods), timeout=timeout),
            cursor_of=lambda message: message.resume_after_sequence, after=0,
            stream_deadline=STREAM_DEADLINE_SECONDS)
        first: dict[str, datetime] = {}
        try:
            async for message in consumer:
                for event in message.events:
                    if event.sequence > up_to:
                        return first
                    if event.type == collection_pb.CASE_EVENT_TYPE_ACCEPTED:
                        first.setdefault(event.case.setl_list_id, event.event_time.ToDatetime(tzinfo=UTC))
                if message.resume_after_sequence >= up_to:
                    return first
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("collection", failed) from None
        return first


    async def upload_statistics(self, region: str, first: date, last: date) -> dict[str, tuple[int, int]]:
        """Per institution of the region: (upload attempts received, attempts that passed quality control) on the
        days ``first`` to ``last`` (Asia/Shanghai, inclusive), from ``ListUploadStatistics``."""
        request = collection_pb.ListUploadStatisticsRequest(
            region=region, page_size=1000, upload_dates=common_pb.DateRange(start_date=date_to_proto(first),
                                                                             end_date=date_to_proto(last)))
        try:
            return {s.fixmedins_code: (s.uploads_received, s.uploads_passed)
                    async for s in every_page(self._stub.ListUploadStatistics, request, "upload_statistics",
                                              timeout=STREAM_DEADLINE_SECONDS)}
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("collection", failed) from None

def _feed_case(case: collection_pb.Case) -> FeedCase:
    admission, discharge, month = case_dates(case)
    return FeedCase(
        list_id=case.setl_list_id, active=case.status == collection_pb.LIST_STATUS_ACTIVE,
        hospital=case.fixmedins_code, hospital_level=case.hospital_level, month=month, psn_no=case.psn_no,
        admission=admission, discharge=discharge, los=case.los_days, discharge_way=case.discharge_way,
        department=case.department, doctor=case.attending_doctor,
        groups=tuple((g.scheme_id, g.scheme_version, g.code) for g in case.groups), total_fen=case.total_cost.fen)


__all__ = ["CollectionFeed", "FeedCase", "MedpayError"]
