"""Smart review's confirmed deductions as a clearing reads them: ``ListDeductions`` of ``medpay.review.v1`` (served
by the evaluation process at ``MEDPAY_EVALUATION_ADDRESS``), called with this service's own credentials."""

from __future__ import annotations

import grpc
from google.type import date_pb2
from medpay.review.v1 import review_service_pb2 as review_pb
from medpay.review.v1 import review_service_pb2_grpc as review_grpc

from libs.common.grpc.upstream import upstream_error
from libs.common.paging import every_page

REVIEW = "medpay.review.v1.ReviewService"
IDEMPOTENT = [(REVIEW, "ListDeductions")]
TIMEOUT_SECONDS = 30.0


class ReviewClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = review_grpc.ReviewServiceStub(channel)

    async def confirmed(self, region: str, year: int) -> dict[str, int]:
        """Every hospital's confirmed deductions of the year (all pages), fen by institution code."""
        request = review_pb.ListDeductionsRequest(parent=f"regions/{region}",
                                                  settlement_period=date_pb2.Date(year=year), page_size=1000)
        pages = every_page(self._stub.ListDeductions, request, "deductions", timeout=TIMEOUT_SECONDS)
        try:
            return {d.fixmedins_code: d.amount.fen async for d in pages}
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("evaluation", failed) from None
