"""gRPC servicer of ``medpay.evaluation.v1``: thin, proto -> service layer -> proto."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.longrunning import operations_pb2
from medpay.evaluation.v1 import evaluation_service_pb2 as pb
from medpay.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

from libs.common.auth.context import current_principal, scope_region
from libs.common.auth.roles import Role
from libs.common.errors import InvalidArgument, NotFound
from libs.common.paging import decode_token, encode_token, page_size
from libs.common.runs import Runs

from ...service_layer.indicators.queries import (
    UowFactory,
    hospital_scorecard,
    list_groups,
    list_indicators,
    parse_run_name,
    run_name,
)
from ...service_layer.indicators.runs import KIND, EvaluationRuns, RunRequest, check_weights
from .mapping import (
    evaluation_run_to_proto,
    group_to_proto,
    indicator_to_proto,
    level_from_proto,
    month_from_proto,
    period_from_proto,
    scorecard_to_proto,
)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EvaluationService"].full_name
_REGION = re.compile(r"regions/([0-9]{6})")
_REGION_PREFIX = re.compile(r"regions/([0-9]{6})(?:/|$)")
_SCORECARD = re.compile(r"(regions/[0-9]{6}/evaluationRuns/[0-9a-f]{32})/hospitalScorecards/([A-Z][0-9]{11})")
MAX_DEADLINE_DAYS = 365
RUNS_PAGE = (100, 1000)

TenantOf = Callable[[Any], "str | None"]


def bureau(context: Any) -> str | None:
    """Whom a call acts for: the institution code of a hospital's verified token (it sees only its own units);
    None for the bureaus, the services and dev mode (every hospital of the region)."""
    caller = current_principal()
    return caller.subject if caller is not None and caller.role is Role.HOSPITAL else None


class EvaluationServicer(pb_grpc.EvaluationServiceServicer):
    def __init__(self, runs: Runs, evaluation: EvaluationRuns, uows: UowFactory,
                 tenant_of: TenantOf = bureau) -> None:
        self._runs = runs
        self._evaluation = evaluation
        self._uows = uows
        self._tenant_of = tenant_of

    async def StartEvaluationRun(self, request: pb.StartEvaluationRunRequest,
                                 context: Any) -> operations_pb2.Operation:
        region = _region(request.parent, "parent")
        run = request.evaluation_run
        if not request.HasField("evaluation_run"):
            raise InvalidArgument.field("evaluation_run", "is required")
        if run.case_feed_sequence < 0:
            raise InvalidArgument.field("evaluation_run.case_feed_sequence", "must not be negative")
        if not 0 <= run.upload_deadline_days <= MAX_DEADLINE_DAYS:
            raise InvalidArgument.field("evaluation_run.upload_deadline_days", f"must be 0-{MAX_DEADLINE_DAYS}")
        if run.settlement_run and run.weights:
            raise InvalidArgument.field("evaluation_run.weights", "give a settlement run or weights, not both")
        weights = check_weights([(w.group, w.rw) for w in run.weights]) if run.weights else None
        started = await self._evaluation.start(RunRequest(
            region=region, period=period_from_proto(run.period, "evaluation_run.period"),
            feed_sequence=run.case_feed_sequence, settlement_run=run.settlement_run, weights=weights,
            upload_deadline_days=run.upload_deadline_days or 30))
        return self._runs.operation(started)

    async def GetEvaluationRun(self, request: pb.GetEvaluationRunRequest, context: Any) -> pb.EvaluationRun:
        region, run_id = parse_run_name(request.name)
        scope_region(region)
        run = await self._runs.store.get(run_id)  # None when absent (Runs.get answers OPERATION_NOT_FOUND)
        if run is None or run.kind != KIND or run.parameters.get("region") != region:
            raise NotFound(f"no evaluation run {request.name}", reason="RUN_NOT_FOUND",
                           metadata={"name": request.name})
        async with self._uows() as uow:
            stored = await uow.results.run(run_id)
        return evaluation_run_to_proto(run, stored)

    async def ListEvaluationRuns(self, request: pb.ListEvaluationRunsRequest,
                                 context: Any) -> pb.ListEvaluationRunsResponse:
        region = _region(request.parent, "parent")
        limit = page_size(request.page_size, *RUNS_PAGE)
        after = decode_token(request.page_token)
        async with self._uows() as uow:
            stored = await uow.results.runs(region)
        ids = [r.run_id for r in stored]
        if after and after not in ids:
            raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
        start = ids.index(after) + 1 if after else 0
        page = stored[start:start + limit]
        more = start + limit < len(stored)
        return pb.ListEvaluationRunsResponse(
            evaluation_runs=[evaluation_run_to_proto(None, r) for r in page],
            next_page_token=encode_token(page[-1].run_id if more and page else ""))

    async def ListIndicators(self, request: pb.ListIndicatorsRequest, context: Any) -> pb.ListIndicatorsResponse:
        month = month_from_proto(request.month)
        _scoped(request.parent)
        found = await list_indicators(self._uows, request.parent, level=level_from_proto(request.level),
                                      unit=request.unit, month=month, size=request.page_size,
                                      token=request.page_token, tenant=self._tenant_of(context))
        return pb.ListIndicatorsResponse(indicators=[indicator_to_proto(u) for u in found.units],
                                         next_page_token=found.next_page_token)

    async def ListGroupProfiles(self, request: pb.ListGroupProfilesRequest,
                                context: Any) -> pb.ListGroupProfilesResponse:
        _scoped(request.parent)
        found = await list_groups(self._uows, request.parent, size=request.page_size, token=request.page_token)
        return pb.ListGroupProfilesResponse(group_profiles=[group_to_proto(g) for g in found.groups],
                                            next_page_token=found.next_page_token)

    async def GetHospitalScorecard(self, request: pb.GetHospitalScorecardRequest,
                                   context: Any) -> pb.HospitalScorecard:
        matched = _SCORECARD.fullmatch(request.name)
        if matched is None:
            raise InvalidArgument.field("name", f"{request.name!r} is not a scorecard name (regions/{{region}}/"
                                        "evaluationRuns/{run}/hospitalScorecards/{institution code})")
        _scoped(request.name)
        card = await hospital_scorecard(self._uows, matched[1], matched[2], tenant=self._tenant_of(context))
        return scorecard_to_proto(card, request.name)


def _region(parent: str, field: str) -> str:
    matched = _REGION.fullmatch(parent)
    if matched is None:
        raise InvalidArgument.field(field, f"{parent!r} is not a region (regions/{{6-digit code}})")
    return scope_region(matched[1])  # a prefecture its own region only


def _scoped(name: str) -> None:
    """PERMISSION_DENIED when a resource name under regions/{region}/ lies outside a prefecture caller's region."""
    matched = _REGION_PREFIX.match(name)
    if matched is not None:
        scope_region(matched[1])


def add_to_server(servicer: EvaluationServicer, server: Any) -> None:
    pb_grpc.add_EvaluationServiceServicer_to_server(servicer, server)


__all__ = ["SERVICE_NAME", "EvaluationServicer", "add_to_server", "run_name"]
