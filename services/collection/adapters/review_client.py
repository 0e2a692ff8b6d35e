"""The smart-review service as the hospitals' door reaches it: CheckStay for the national 3101/3102."""

from __future__ import annotations

import grpc
from medpay.review.v1 import review_service_pb2 as pb
from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

from libs.common.errors import InvalidArgument, MedpayError, Unavailable
from libs.common.grpc.client import CallerAuth, open_channel

REVIEW = "medpay.review.v1.ReviewService"


class ReviewClient:
    def __init__(self, address: str, auth: CallerAuth | None = None) -> None:
        self._channel = open_channel(address, idempotent_methods=[(REVIEW, "CheckStay")], auth=auth)
        self._stub = pb_grpc.ReviewServiceStub(self._channel)

    async def check(self, request: pb.CheckStayRequest) -> pb.CheckStayResponse:
        try:
            reply: pb.CheckStayResponse = await self._stub.CheckStay(request, timeout=10)
        except grpc.aio.AioRpcError as failed:
            if failed.code() is grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument(failed.details() or "invalid stay", reason="INVALID_FIELD") from None
            if failed.code() is grpc.StatusCode.FAILED_PRECONDITION:
                raise MedpayError(failed.details() or "review is not ready", reason="REVIEW_NOT_READY") from None
            raise Unavailable(f"review service: {failed.code().name} {failed.details()}",
                              reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "evaluation"}) from None
        return reply

    async def close(self) -> None:
        await self._channel.close(None)
