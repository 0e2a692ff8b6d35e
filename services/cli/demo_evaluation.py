"""The demo's evaluation steps: evaluation runs over gRPC, then the bureau's published report (``report.html``
and its CSV figures) from the run stored in the evaluation schema.

The intake month has no settlement run, so its run is given the month's own relative weights (each group's mean
cost over the month's mean cost, 4 places: base-period weights with the month as its own base period); the
settled year is evaluated against its clearing run (the settlement run's weight table and statements)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from medpay.evaluation.v1 import evaluation_service_pb2 as pb
from medpay.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

from libs.common.grpc.client import open_channel
from libs.common.runtime import Runtime

from ..evaluation.adapters.indicators.report_files import write_report
from ..evaluation.api.indicators.mapping import period_to_proto
from ..evaluation.domain.indicators.periods import EvaluationPeriod
from ..evaluation.reporting.model import EvaluationReport
from ..evaluation.service_layer.indicators.report import build_report
from ..evaluation.service_layer.indicators.unit_of_work import EvaluationUnitOfWork


@dataclass(frozen=True)
class EvaluationOutcome:
    run: str
    report: EvaluationReport
    files: list[Path]


def month_weights(facts: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Relative weights of the month's groups from its lists' truth (intended DRG, total cost in yuan):
    group mean over overall mean, half up to 4 places."""
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for fact in facts:
        costs[fact["intended_drg"]].append(Decimal(fact["total"]))
    every = [cost for group in costs.values() for cost in group]
    if not every:
        return {}
    overall = sum(every, Decimal(0)) / len(every)
    return {group: str((sum(values, Decimal(0)) / len(values) / overall).quantize(Decimal("0.0001"), ROUND_HALF_UP))
            for group, values in sorted(costs.items())}


async def evaluate_month(address: str, runtime: Runtime, *, region: str, region_name: str, period: str,
                         weights: dict[str, str] | None, out: Path,
                         channel: Callable[..., grpc.aio.Channel] = open_channel) -> EvaluationOutcome:
    """Starts the period's evaluation run (with ``weights``, or, without, against the period's settlement run),
    waits for it, and writes the report of the run into ``out``."""
    parsed = EvaluationPeriod.parse(period)
    async with channel(address, deadline_seconds=900) as opened:
        stub = pb_grpc.EvaluationServiceStub(opened)
        operation = await stub.StartEvaluationRun(pb.StartEvaluationRunRequest(
            parent=f"regions/{region}", evaluation_run=pb.EvaluationRun(
                period=period_to_proto(parsed),
                weights=[pb.GroupWeight(group=g, rw=w) for g, w in (weights or {}).items()])))
        done = await operations_pb2_grpc.OperationsStub(opened).WaitOperation(
            operations_pb2.WaitOperationRequest(name=operation.name, timeout=Duration(seconds=600)))
    if not done.done or done.HasField("error"):
        raise RuntimeError(f"evaluation run {operation.name} did not succeed: {done.error.message or 'timed out'}")
    run = pb.EvaluationRun()
    done.response.Unpack(run)
    report = await _report(runtime, region, parsed, region_name)
    return EvaluationOutcome(run.name, report, write_report(report, out))


async def _report(runtime: Runtime, region: str, period: EvaluationPeriod, region_name: str) -> EvaluationReport:
    from libs.common.db.engine import session_factory

    engine = runtime.engine(pool_size=2)
    try:
        sessions = session_factory(engine)
        return await build_report(lambda: EvaluationUnitOfWork(sessions), region, period, region_name=region_name)
    finally:
        await engine.dispose()
