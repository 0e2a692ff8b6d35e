"""Wiring of the evaluation service process: performance evaluation (``medpay.evaluation.v1``, schema
``evaluation``) and, beside it, smart review (``medpay.review.v1``, schema ``review``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.client import open_service_channel
from libs.common.grpc.server import ServiceSpec
from libs.common.runs import JobKind, Runs
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime

from .adapters.indicators.collection_feed import CollectionFeed
from .adapters.indicators.institution_names import InstitutionNames
from .adapters.indicators.tables import runs_table
from .api.indicators.mapping import evaluation_run_to_proto
from .api.indicators.servicer import SERVICE_NAME, EvaluationServicer, add_to_server
from .service_layer.indicators.runs import KIND, EvaluationRuns
from .service_layer.indicators.unit_of_work import EvaluationUnitOfWork

DOMAIN = "evaluation.medpay"


@dataclass
class EvaluationApp:
    engine: AsyncEngine
    new_uow: Callable[[], EvaluationUnitOfWork]
    runs: Runs
    evaluation: EvaluationRuns
    channels: list[grpc.aio.Channel]

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)
        await self.engine.dispose()


def build_app(runtime: Runtime) -> EvaluationApp:
    engine = runtime.engine(pool_size=8)
    sessions = session_factory(engine)

    def new_uow() -> EvaluationUnitOfWork:
        return EvaluationUnitOfWork(sessions)

    collection = open_service_channel(runtime.settings, "collection", stream_deadline_seconds=600)
    coding = open_service_channel(runtime.settings, "coding", [("medpay.coding.v1.CodingService", "GetCode")])
    evaluation = EvaluationRuns(new_uow, CollectionFeed(collection), settlement=None, names=InstitutionNames(coding))
    kind = JobKind(KIND, evaluation.job, metadata=lambda run: evaluation_run_to_proto(run, None),
                   response=lambda run: evaluation_run_to_proto(run, None))
    runs = Runs(engine, runs_table, [kind], domain=DOMAIN)
    evaluation.runs = runs
    return EvaluationApp(engine, new_uow, runs, evaluation, [collection, coding])


def service_spec(app: EvaluationApp) -> ServiceSpec:
    servicer = EvaluationServicer(app.runs, app.evaluation, app.new_uow)

    async def stop() -> None:
        await app.runs.close()
        await app.close()

    def register(server: grpc.aio.Server) -> None:
        add_to_server(servicer, server)
        add_operations(server, app.runs)

    return ServiceSpec("evaluation", register=register, service_names=[SERVICE_NAME, OPERATIONS_SERVICE],
                       on_start=app.runs.open, on_stop=stop)
