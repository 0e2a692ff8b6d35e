"""gRPC servicer of ``medpay.settlement.v1``: thin, proto -> service layer -> proto."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from google.longrunning import operations_pb2
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.auth.context import current_principal
from libs.common.auth.roles import Role
from libs.common.dates import Period, date_from_proto
from libs.common.decimals import DecimalError, parse_decimal
from libs.common.errors import InvalidArgument
from libs.common.runs import Runs

from ..service_layer.names import parse_region
from ..service_layer.policies import CreatePolicy, Policies
from ..service_layer.settlement_runs import RunRequest, SettlementRuns
from ..service_layer.weight_tables import ComputeRequest, ImportedGroup, WeightTables
from .mapping import (
    case_to_proto,
    group_scheme_from_proto,
    group_weight_to_proto,
    policy_to_proto,
    settlement_run_to_proto,
    statement_to_proto,
    weight_table_to_proto,
)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SettlementService"].full_name

TenantOf = Callable[[Any], "str | None"]


def bureau(context: Any) -> str | None:
    """Whom a call acts for: the institution code of a hospital's verified token (it sees only its own
    statements and cases); None for the bureaus, the services and dev mode. Region scoping of names and parents
    is the server's (libs.common.auth.context.check_request_scope)."""
    caller = current_principal()
    return caller.subject if caller is not None and caller.role is Role.HOSPITAL else None


class SettlementServicer(pb_grpc.SettlementServiceServicer):
    def __init__(self, policies: Policies, weight_tables: WeightTables, settlement: SettlementRuns, runs: Runs,
                 tenant_of: TenantOf = bureau) -> None:
        self._policies = policies
        self._tables = weight_tables
        self._settlement = settlement
        self._runs = runs
        self._tenant_of = tenant_of

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
            description=p.description, request_id=request.request_id, hospital_levels=dict(p.hospital_levels)))
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

    async def ComputeWeights(self, request: pb.ComputeWeightsRequest, context: Any) -> operations_pb2.Operation:
        region = parse_region(request.parent)
        if not request.HasField("weight_table"):
            raise InvalidArgument.field("weight_table", "is required")
        t = request.weight_table
        run = await self._tables.start(ComputeRequest(region, t.year, t.policy, t.case_feed_sequence))
        return self._runs.operation(run)

    async def ImportWeightTable(self, request: pb.ImportWeightTableRequest, context: Any) -> pb.WeightTable:
        region = parse_region(request.parent)
        avg_all = _decimal(request.avg_all, 6, "avg_all")
        groups = [ImportedGroup(g.group, g.kept_cases, _decimal(g.rw, 4, f"groups[{i}].rw"),
                                g.standard_cost.fen) for i, g in enumerate(request.groups)]
        return weight_table_to_proto(await self._tables.import_table(region, request.year, avg_all, groups))

    async def GetWeightTable(self, request: pb.GetWeightTableRequest, context: Any) -> pb.WeightTable:
        return weight_table_to_proto(await self._tables.get(request.name))

    async def ListWeightTables(self, request: pb.ListWeightTablesRequest,
                               context: Any) -> pb.ListWeightTablesResponse:
        region = parse_region(request.parent)
        tables, token = await self._tables.page(region, request.year, request.page_size, request.page_token)
        return pb.ListWeightTablesResponse(weight_tables=[weight_table_to_proto(t) for t in tables],
                                           next_page_token=token)

    async def ListGroupWeights(self, request: pb.ListGroupWeightsRequest,
                               context: Any) -> pb.ListGroupWeightsResponse:
        groups, token = await self._tables.groups(request.parent, request.page_size, request.page_token)
        return pb.ListGroupWeightsResponse(group_weights=[group_weight_to_proto(g) for g in groups],
                                           next_page_token=token)

    async def StartSettlementRun(self, request: pb.StartSettlementRunRequest,
                                 context: Any) -> operations_pb2.Operation:
        region = parse_region(request.parent)
        if not request.HasField("settlement_run"):
            raise InvalidArgument.field("settlement_run", "is required")
        r = request.settlement_run
        if not r.HasField("settlement_period"):
            raise InvalidArgument.field("settlement_run.settlement_period", "is required: a month or a year")
        period = Period.from_proto(r.settlement_period, "settlement_run.settlement_period")
        run = await self._settlement.start(RunRequest(region, period, r.policy, r.weight_table,
                                                      r.case_feed_sequence, request.request_id))
        return self._runs.operation(run)

    async def GetSettlementRun(self, request: pb.GetSettlementRunRequest, context: Any) -> pb.SettlementRun:
        view = await self._settlement.view(request.name)
        return settlement_run_to_proto(view.run, view.stored)

    async def ListSettlementRuns(self, request: pb.ListSettlementRunsRequest,
                                 context: Any) -> pb.ListSettlementRunsResponse:
        region = parse_region(request.parent)
        runs, token = await self._settlement.page(region, request.year, request.page_size, request.page_token)
        return pb.ListSettlementRunsResponse(settlement_runs=[settlement_run_to_proto(None, r) for r in runs],
                                             next_page_token=token)

    async def ListHospitalStatements(self, request: pb.ListHospitalStatementsRequest,
                                     context: Any) -> pb.ListHospitalStatementsResponse:
        run, found, token = await self._settlement.statements(request.parent, request.page_size,
                                                              request.page_token, self._tenant_of(context))
        return pb.ListHospitalStatementsResponse(hospital_statements=[statement_to_proto(run, s) for s in found],
                                                 next_page_token=token)

    async def GetCaseSettlement(self, request: pb.GetCaseSettlementRequest, context: Any) -> pb.CaseSettlement:
        run, case = await self._settlement.case(request.name, self._tenant_of(context))
        return case_to_proto(run, case)

    async def ListCaseSettlements(self, request: pb.ListCaseSettlementsRequest,
                                  context: Any) -> pb.ListCaseSettlementsResponse:
        run, cases, token = await self._settlement.cases(request.parent, request.fixmedins_code, request.page_size,
                                                         request.page_token, self._tenant_of(context))
        return pb.ListCaseSettlementsResponse(case_settlements=[case_to_proto(run, c) for c in cases],
                                              next_page_token=token)


def _decimal(text: str, places: int, field: str) -> Decimal:
    try:
        return parse_decimal(text, places, field)
    except DecimalError as bad:
        raise InvalidArgument.field(field, str(bad)) from None


def add_to_server(servicer: SettlementServicer, server: Any) -> None:
    pb_grpc.add_SettlementServiceServicer_to_server(servicer, server)


__all__ = ["SERVICE_NAME", "SettlementServicer", "add_to_server"]
