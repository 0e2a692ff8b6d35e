"""gRPC servicer of medpay.grouping.v1: thin translation around the ``SchemeRegistry`` (CHS-DRG) and, for DIP
schemes and the DIP methods, ``api.dip.DipApi``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from google.longrunning import operations_pb2
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.errors import FailedPrecondition, NotFound, check_batch_size
from libs.common.names import parse_name
from libs.common.paging import decode_token, encode_token, page_size

from ..domain.dip.scheme import is_dip_scheme
from ..domain.errors import UnknownSchemeError
from ..service_layer.dip_service import DipBuilds
from ..service_layer.registry import MAX_BATCH, SchemeRegistry
from .dip import DipApi, split_revision
from .mapping import DRG, SCHEME, case_from_proto, drg_name, result_to_proto, scheme_name

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GroupingService"].full_name


class GroupingServicer(pb_grpc.GroupingServiceServicer):
    def __init__(self, registry: SchemeRegistry, builds: DipBuilds | None = None) -> None:
        self._registry = registry
        self._dip = DipApi(registry.dip, builds)

    async def GroupCase(self, request: pb.GroupCaseRequest, context: Any) -> pb.GroupCaseResponse:
        results = self._group(request.scheme, [request.case], request.run_checks, request.explain)
        return pb.GroupCaseResponse(result=results[0])

    async def GroupCases(self, request: pb.GroupCasesRequest, context: Any) -> pb.GroupCasesResponse:
        check_batch_size("cases", len(request.cases), MAX_BATCH)
        return pb.GroupCasesResponse(results=self._group(request.scheme, request.cases, request.run_checks,
                                                         request.explain))

    async def StreamGroupCases(self, request_iterator: AsyncIterator[pb.StreamGroupCasesRequest],
                               context: Any) -> AsyncIterator[pb.StreamGroupCasesResponse]:
        async for request in request_iterator:
            check_batch_size("cases", len(request.cases), MAX_BATCH)
            yield pb.StreamGroupCasesResponse(results=self._group(request.scheme, request.cases,
                                                                  request.run_checks, False))

    async def ListSchemes(self, request: pb.ListSchemesRequest, context: Any) -> pb.ListSchemesResponse:
        size = page_size(request.page_size, 50, 100)
        after = decode_token(request.page_token)
        ids = [i for i in sorted({*self._registry.schemes, *self._dip.scheme_ids()}) if i > after]
        page = ids[:size]
        return pb.ListSchemesResponse(
            schemes=[_scheme_to_proto(self._registry.schemes[i]) if i in self._registry.schemes
                     else self._dip.scheme(i) for i in page],
            next_page_token=encode_token(page[-1]) if len(ids) > size else "")

    async def GetDrg(self, request: pb.GetDrgRequest, context: Any) -> pb.Drg:
        scheme_id, code = parse_name(request.name, DRG)
        scheme = self._scheme_by_id(scheme_id, "name")
        info = scheme.drgs.get(code)
        if info is None:
            raise NotFound(f"{code} is not a DRG of {scheme.scheme_id}", reason="DRG_NOT_FOUND",
                           metadata={"scheme": scheme_name(scheme.scheme_id), "drg": code})
        return pb.Drg(name=drg_name(scheme.scheme_id, info.code), code=info.code, display_name=info.name,
                      mdc=info.mdc, adrg=info.adrg, scheme_version=scheme.version)

    async def BuildDipCatalogue(self, request: dip_pb2.BuildDipCatalogueRequest,
                                context: Any) -> operations_pb2.Operation:
        return await self._dip.build(request)

    async def GetDipCatalogue(self, request: dip_pb2.GetDipCatalogueRequest, context: Any) -> dip_pb2.DipCatalogue:
        return self._dip.get_catalogue(request)

    async def ListDipCatalogues(self, request: dip_pb2.ListDipCataloguesRequest,
                                context: Any) -> dip_pb2.ListDipCataloguesResponse:
        return self._dip.list_catalogues(request)

    async def ListDipGroups(self, request: dip_pb2.ListDipGroupsRequest,
                            context: Any) -> dip_pb2.ListDipGroupsResponse:
        return self._dip.list_groups(request)

    def _scheme_by_id(self, scheme_id: str, field: str) -> Any:
        try:
            return self._registry.scheme(scheme_id)
        except UnknownSchemeError as unknown:
            raise NotFound(str(unknown), reason="SCHEME_NOT_FOUND",
                           metadata={field: scheme_name(scheme_id)}) from None

    def _group(self, scheme: str, cases: Sequence[pb.GroupingCase], checks: bool,
               explain: bool) -> list[pb.GroupingResult]:
        (scheme_id,) = parse_name(scheme, SCHEME, "scheme")
        scheme_id, version = split_revision(scheme_id, "scheme")
        if is_dip_scheme(scheme_id):
            return self._dip.group(scheme_id, version, cases, explain)
        self._scheme_by_id(scheme_id, "scheme")
        if checks and self._registry.codes is None:
            raise FailedPrecondition("input checks need the ICD code tables, which this server has not loaded",
                                     reason="CODE_TABLES_MISSING")
        results = self._registry.group(scheme_id, (case_from_proto(c) for c in cases), checks=checks,
                                       explain=explain)
        return [result_to_proto(r, c.case_id) for r, c in zip(results, cases, strict=True)]


def _scheme_to_proto(s: Any) -> pb.Scheme:
    return pb.Scheme(name=scheme_name(s.scheme_id), family=s.name, version=s.version, mdc_count=len(s.mdcs.items),
                     adrg_count=s.adrg_count, drg_count=len(s.drgs))


def add_to_server(servicer: GroupingServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_GroupingServiceServicer_to_server(servicer, server)
