"""Hospital names for scorecards and reports, from the coding service's institution table (best effort: a code
the table does not hold keeps an empty name; the code itself always identifies the hospital)."""

from __future__ import annotations

import grpc
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc

from .upstream import upstream_error

INSTITUTIONS = "institution"


class InstitutionNames:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = coding_grpc.CodingServiceStub(channel)
        self._known: dict[str, str] = {}

    async def name(self, code: str) -> str:
        if code not in self._known:
            try:
                reply = await self._stub.GetCode(coding_pb.GetCodeRequest(
                    name=f"codeSystems/{INSTITUTIONS}/versions/-/codes/{code}"))
                self._known[code] = reply.display_name
            except grpc.aio.AioRpcError as failed:
                if failed.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                    raise upstream_error("coding", failed) from None
                self._known[code] = ""
        return self._known[code]
