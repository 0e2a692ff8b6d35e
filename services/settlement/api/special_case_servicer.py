"""gRPC servicer of ``medpay.settlement.v1.SpecialCaseService``: thin, proto -> service layer -> proto.

A hospital's caller (``tenant_of``, as for the settlement service's statements) applies for and sees its own
cases only; approving and rejecting are the bureaus'."""

from __future__ import annotations

from typing import Any

import grpc
from google.type import date_pb2
from medpay.settlement.v1 import special_cases_pb2 as pb
from medpay.settlement.v1 import special_cases_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.errors import InvalidArgument, NotFound

from ..adapters.special_case_repository import StoredSpecialCase
from ..domain.special_cases import SpecialCaseState
from ..service_layer.ledger import check_institution
from ..service_layer.names import parse_region
from ..service_layer.special_cases import SpecialCases
from .mapping import timestamp
from .tenancy import TenantOf, acting, bureau, bureau_only, own_institution

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SpecialCaseService"].full_name
STATES = {SpecialCaseState.APPLIED: pb.SPECIAL_CASE_STATE_APPLIED,
          SpecialCaseState.APPROVED: pb.SPECIAL_CASE_STATE_APPROVED,
          SpecialCaseState.REJECTED: pb.SPECIAL_CASE_STATE_REJECTED}
STATE_OF = {v: k for k, v in STATES.items()}


def special_case_to_proto(stored: StoredSpecialCase) -> pb.SpecialCase:
    c = stored.case
    return pb.SpecialCase(
        name=c.name, setl_list_id=c.setl_list_id, fixmedins_code=c.fixmedins_code,
        settlement_year=Period(c.year).to_proto(), reason=c.reason, state=STATES[c.state], decided_by=c.decided_by,
        decision_note=c.decision_note,
        history=[pb.SpecialCaseDecision(state=STATES[h.state], actor=h.actor, note=h.note, time=timestamp(h.time))
                 for h in stored.history])


def _year(value: date_pb2.Date, field: str) -> int:
    if value.year == 0 and value.month == 0 and value.day == 0:
        return 0
    period = Period.from_proto(value, field)
    if period.is_month:
        raise InvalidArgument.field(field, "a settlement year: year, month 0 and day 0")
    return period.year


class SpecialCaseServicer(pb_grpc.SpecialCaseServiceServicer):
    def __init__(self, cases: SpecialCases, tenant_of: TenantOf = bureau) -> None:
        self._cases = cases
        self._tenant_of = tenant_of

    async def ApplySpecialCase(self, request: pb.ApplySpecialCaseRequest, context: Any) -> pb.SpecialCase:
        region = parse_region(request.parent)
        if not request.HasField("special_case"):
            raise InvalidArgument.field("special_case", "is required")
        tenant = self._tenant_of(context)
        request_id = f"{tenant}:{request.request_id}" if tenant and request.request_id else request.request_id
        stored = await self._cases.apply(region, request.special_case.setl_list_id, request.special_case.reason,
                                         request_id=request_id, actor=acting(tenant), hospital=tenant)
        return special_case_to_proto(stored)

    async def GetSpecialCase(self, request: pb.GetSpecialCaseRequest, context: Any) -> pb.SpecialCase:
        stored = await self._cases.get(request.name)
        tenant = self._tenant_of(context)
        if tenant is not None and tenant != stored.case.fixmedins_code:  # another's case does not exist for it
            raise NotFound(f"no special case {request.name}", reason="SPECIAL_CASE_NOT_FOUND")
        return special_case_to_proto(stored)

    async def ListSpecialCases(self, request: pb.ListSpecialCasesRequest,
                               context: Any) -> pb.ListSpecialCasesResponse:
        region = parse_region(request.parent)
        code = own_institution(self._tenant_of(context), check_institution(request.fixmedins_code))
        if request.state and request.state not in STATE_OF:
            raise InvalidArgument.field("state", f"unknown state {request.state}")
        page = await self._cases.list(region, fixmedins_code=code,
                                      year=_year(request.settlement_year, "settlement_year"),
                                      state=STATE_OF.get(request.state), size=request.page_size,
                                      token=request.page_token)
        return pb.ListSpecialCasesResponse(special_cases=[special_case_to_proto(c) for c in page.cases],
                                           next_page_token=page.next_page_token)

    async def ApproveSpecialCase(self, request: pb.ApproveSpecialCaseRequest, context: Any) -> pb.SpecialCase:
        tenant = self._tenant_of(context)
        bureau_only(tenant, "approve special cases")
        return special_case_to_proto(await self._cases.approve(request.name, request.note,
                                                               request_id=request.request_id, actor=acting(tenant)))

    async def RejectSpecialCase(self, request: pb.RejectSpecialCaseRequest, context: Any) -> pb.SpecialCase:
        tenant = self._tenant_of(context)
        bureau_only(tenant, "reject special cases")
        return special_case_to_proto(await self._cases.reject(request.name, request.note,
                                                              request_id=request.request_id, actor=acting(tenant)))


def add_to_server(servicer: SpecialCaseServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_SpecialCaseServiceServicer_to_server(servicer, server)
