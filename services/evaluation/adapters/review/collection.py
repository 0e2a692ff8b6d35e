"""The collection service as review reads it: the case feed (head, as-of cases, events) and fee details.

Cases and fee lines arrive as protos and leave as review's domain values (``Stay``, ``FeeLine``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import grpc
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc
from medpay.collection.v1 import fee_detail_service_pb2 as fee_pb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fee_grpc

from libs.common.dates import Period, date_from_proto
from libs.common.errors import Unavailable
from libs.common.grpc.case_feed import as_of_cases, feed_head
from libs.common.grpc.client import CallerAuth, open_channel
from libs.national.fees import FeeLine, fee_local, scaled

from ...domain.review.model import Group, Stay

COLLECTION = "medpay.collection.v1.CollectionService"
FEES = "medpay.collection.v1.FeeDetailService"
_SEX = {pb.SEX_MALE: 1, pb.SEX_FEMALE: 2}


class CollectionReader:
    def __init__(self, address: str, auth: CallerAuth | None = None) -> None:
        self._channel = open_channel(address, idempotent_methods=[(COLLECTION, "GetCaseFeed"),
                                                                   (FEES, "GetStayFeeDetails")], auth=auth)
        self._cases = pb_grpc.CollectionServiceStub(self._channel)
        self._fees = fee_grpc.FeeDetailServiceStub(self._channel)

    async def head(self) -> int:
        return await feed_head(self._cases)

    async def cases(self, region: str, periods: Sequence[Period], as_of: int) -> AsyncIterator[list[pb.Case]]:
        request = pb.StreamCasesRequest(region=region, settlement_periods=[p.to_proto() for p in periods],
                                        as_of_sequence=as_of)
        try:
            async for _, cases in as_of_cases(self._cases, request, 3600):
                yield cases
        except grpc.aio.AioRpcError as failed:
            raise _unavailable(failed) from None

    async def fee_details(self, region: str, periods: Sequence[Period]) -> AsyncIterator[list[fee_pb.StayFeeDetails]]:
        request = fee_pb.StreamFeeDetailsRequest(region=region, settlement_periods=[p.to_proto() for p in periods])
        try:
            async for message in self._fees.StreamFeeDetails(request, timeout=3600):
                yield list(message.stays)
        except grpc.aio.AioRpcError as failed:
            raise _unavailable(failed) from None

    def event_stream(self, region: str, follow: bool) -> Callable[[int, float], Any]:
        """The opener of the region's case-event stream for ``libs.common.grpc.streams.StreamConsumer``:
        (after_sequence, deadline) -> the call (its errors are the consumer's to handle)."""
        def open_stream(after: int, timeout: float) -> Any:
            return self._cases.StreamCaseEvents(
                pb.StreamCaseEventsRequest(region=region, after_sequence=after, follow=follow), timeout=timeout)
        return open_stream

    async def close(self) -> None:
        await self._channel.close(None)


def _unavailable(failed: grpc.aio.AioRpcError) -> Unavailable:
    return Unavailable(f"collection service: {failed.code().name} {failed.details()}", reason="UPSTREAM_UNAVAILABLE",
                       metadata={"upstream": "collection"})


def stay_of_case(c: pb.Case) -> Stay:
    """A collected case as the rules read it (dates at midnight: the feed carries days, not times)."""
    group = next((Group(g.code, g.adrg, g.mdc) for g in c.groups if g.kind == pb.GROUP_KIND_DRG and g.adrg), None)
    admitted = _midnight(date_from_proto(c.admission_date, "admission_date")) if c.HasField("admission_date") else None
    discharged = _midnight(date_from_proto(c.discharge_date, "discharge_date")) if c.HasField("discharge_date") \
        else None
    return Stay(fixmedins_code=c.fixmedins_code, setl_id=c.setl_id, mdtrt_id=c.mdtrt_id, psn_no=c.psn_no,
                sex=_SEX.get(c.sex), age_years=c.age_years, stated_age=c.age_years, admitted=admitted,
                discharged=discharged, discharge_way=c.discharge_way, dept=c.department, doctor=c.attending_doctor,
                diagnoses=tuple(c.diagnosis_codes), procedures=tuple(c.procedure_codes),
                total_fen=c.total_cost.fen if c.HasField("total_cost") else None, category_fen=None, group=group,
                hospital_level=c.hospital_level)


def lines_of(details: fee_pb.StayFeeDetails) -> list[FeeLine]:
    return [line_of(d) for d in details.fee_details]


def line_of(d: fee_pb.FeeDetail) -> FeeLine:
    """A stored fee line as the rules read it (collection stored it checked: its numbers read)."""
    return FeeLine(d.feedetl_sn, d.med_list_codg, d.med_chrgitm_type, fee_local(d.fee_time.ToDatetime(tzinfo=UTC)),
                   scaled(d.cnt) or 0, scaled(d.pric) or 0, d.amount.fen, d.mdtrt_id, d.init_feedetl_sn)


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None


def is_active(c: pb.Case) -> bool:
    return c.status == pb.LIST_STATUS_ACTIVE


def period_text(c: pb.Case) -> str:
    return str(Period.from_proto(c.settlement_month, "settlement_month")) if c.HasField("settlement_month") else ""
