"""gRPC servicer of medpay.grouping.v1: thin translation around the ``SchemeRegistry``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.errors import FailedPrecondition, InvalidArgument, NotFound, check_batch_size

from ..domain.errors import UnknownSchemeError
from ..service_layer.registry import MAX_BATCH, SchemeRegistry
from .mapping import case_from_proto, result_to_proto

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GroupingService"].full_name


class GroupingServicer(pb_grpc.GroupingServiceServicer):
    def __init__(self, registry: SchemeRegistry) -> None:
        self._registry = registry

    async def GroupCase(self, request: pb.GroupCaseRequest, context: Any) -> pb.GroupCaseResponse:
        results = self._group(request.scheme_id, [request.case], request.run_checks, request.explain)
        return pb.GroupCaseResponse(result=results[0])

    async def GroupCases(self, request: pb.GroupCasesRequest, context: Any) -> pb.GroupCasesResponse:
        check_batch_size("cases", len(request.cases), MAX_BATCH)
        return pb.GroupCasesResponse(results=self._group(request.scheme_id, request.cases, request.run_checks,
                                                         request.explain))

    async def StreamGroupCases(self, request_iterator: AsyncIterator[pb.StreamGroupCasesRequest],
                               context: Any) -> AsyncIterator[pb.StreamGroupCasesResponse]:
        async for request in request_iterator:
            check_batch_size("cases", len(request.cases), MAX_BATCH)
            yield pb.StreamGroupCasesResponse(results=self._group(request.scheme_id, request.cases,
                                                                  request.run_checks, False))

    async def ListSchemes(self, request: pb.ListSchemesRequest, context: Any) -> pb.ListSchemesResponse:
        return pb.ListSchemesResponse(schemes=[
            pb.Scheme(scheme_id=s.scheme_id, name=s.name, version=s.version, mdc_count=len(s.mdcs.items),
                      adrg_count=s.adrg_count, drg_count=len(s.drgs))
            for _, s in sorted(self._registry.schemes.items())])

    async def GetDrg(self, request: pb.GetDrgRequest, context: Any) -> pb.GetDrgResponse:
        if not request.drg:
            raise InvalidArgument.field("drg", "must not be empty")
        scheme = self._scheme(request.scheme_id)
        info = scheme.drgs.get(request.drg)
        if info is None:
            raise NotFound(f"{request.drg} is not a DRG of {scheme.scheme_id}", reason="DRG_NOT_FOUND",
                           metadata={"scheme_id": scheme.scheme_id, "drg": request.drg})
        return pb.GetDrgResponse(drg=info.code, name=info.name, mdc=info.mdc, adrg=info.adrg,
                                 scheme_id=scheme.scheme_id, scheme_version=scheme.version)

    def _scheme(self, scheme_id: str) -> Any:
        if not scheme_id:
            raise InvalidArgument.field("scheme_id", "must not be empty")
        try:
            return self._registry.scheme(scheme_id)
        except UnknownSchemeError as unknown:
            raise NotFound(str(unknown), reason="SCHEME_NOT_FOUND", metadata={"scheme_id": scheme_id}) from None

    def _group(self, scheme_id: str, cases: Sequence[pb.GroupingCase], checks: bool,
               explain: bool) -> list[pb.GroupingResult]:
        self._scheme(scheme_id)
        if checks and self._registry.codes is None:
            raise FailedPrecondition("input checks need the ICD code tables, which this server has not loaded",
                                     reason="CODE_TABLES_MISSING")
        results = self._registry.group(scheme_id, (case_from_proto(c) for c in cases), checks=checks,
                                       explain=explain)
        return [result_to_proto(r, c.case_id) for r, c in zip(results, cases, strict=True)]


def add_to_server(servicer: GroupingServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_GroupingServiceServicer_to_server(servicer, server)
