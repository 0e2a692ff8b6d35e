"""gRPC servicer of ``medpay.settlement.v1``: thin, proto -> service layer -> proto."""

from __future__ import annotations

from typing import Any

from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.dates import date_from_proto
from libs.common.errors import InvalidArgument

from ..service_layer.names import parse_region
from ..service_layer.policies import CreatePolicy, Policies
from .mapping import group_scheme_from_proto, policy_to_proto

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SettlementService"].full_name


class SettlementServicer(pb_grpc.SettlementServiceServicer):
    def __init__(self, policies: Policies) -> None:
        self._policies = policies

    async def CreatePolicy(self, request: pb.CreatePolicyRequest, context: Any) -> pb.Policy:
        region = parse_region(request.parent)
        if not request.HasField("policy"):
            raise InvalidArgument.field("policy", "is required")
        p = request.policy
        dates = p.effective_dates
        created = await self._policies.create(CreatePolicy(
            region=region, year=p.year, parameters_json=p.parameters_json,
            group_scheme=group_scheme_from_proto(p.group_scheme),
            effective_start=date_from_proto(dates.start_date, "policy.effective_dates.start_date")
            if dates.HasField("start_date") else None,
            effective_end=date_from_proto(dates.end_date, "policy.effective_dates.end_date")
            if dates.HasField("end_date") else None,
            description=p.description, request_id=request.request_id))
        return policy_to_proto(created)

    async def GetPolicy(self, request: pb.GetPolicyRequest, context: Any) -> pb.Policy:
        return policy_to_proto(await self._policies.get(request.name))

    async def ListPolicies(self, request: pb.ListPoliciesRequest, context: Any) -> pb.ListPoliciesResponse:
        region = parse_region(request.parent)
        page = await self._policies.list(region, request.year, request.page_size, request.page_token)
        return pb.ListPoliciesResponse(policies=[policy_to_proto(v) for v in page.policies],
                                       next_page_token=page.next_page_token)

    async def ActivatePolicy(self, request: pb.ActivatePolicyRequest, context: Any) -> pb.Policy:
        return policy_to_proto(await self._policies.activate(request.name, request.approved_by))


def add_to_server(servicer: SettlementServicer, server: Any) -> None:
    pb_grpc.add_SettlementServiceServicer_to_server(servicer, server)


__all__ = ["SERVICE_NAME", "SettlementServicer", "add_to_server"]
