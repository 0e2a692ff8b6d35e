"""Wiring of the evaluation service process: performance evaluation (``medpay.evaluation.v1``, schema
``evaluation``) and smart review (``medpay.review.v1``, schema ``review``), each with its own engine, runs and
servicer, one gRPC server and one Operations service for both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.client import caller_auth, open_service_channel
from libs.common.grpc.server import ServiceSpec
from libs.common.runs import JobKind, Runs
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime

from .adapters.indicators.collection_feed import CollectionFeed
from .adapters.indicators.institution_names import InstitutionNames
from .adapters.indicators.settlement_runs import SettlementRuns
from .adapters.indicators.tables import runs_table as performance_runs_table
from .adapters.review import tables as review_tables
from .adapters.review.collection import CollectionReader
from .adapters.review.repository import PersonStays
from .api.indicators.mapping import evaluation_run_to_proto
from .api.indicators.servicer import SERVICE_NAME as EVALUATION_SERVICE
from .api.indicators.servicer import EvaluationServicer
from .api.indicators.servicer import add_to_server as add_evaluation
from .api.review.servicer import SERVICE_NAME as REVIEW_SERVICE
from .api.review.servicer import ReviewServicer, review_run_response
from .api.review.servicer import add_to_server as add_review
from .service_layer.indicators.runs import KIND as EVALUATION_RUN
from .service_layer.indicators.runs import EvaluationRuns
from .service_layer.indicators.unit_of_work import EvaluationUnitOfWork
from .service_layer.review.checking import Checker
from .service_layer.review.flags import Flags
from .service_layer.review.knowledge import Knowledge
from .service_layer.review.projection import Projection
from .service_layer.review.queries import ReviewQueries
from .service_layer.review.rulesets import RuleSets
from .service_layer.review.runs import JOB_KIND, ReviewRuns
from .service_layer.review.unit_of_work import ReviewUnitOfWork

log = logging.getLogger(__name__)


@dataclass
class ReviewApp:
    engine: AsyncEngine
    new_uow: Callable[[], ReviewUnitOfWork]
    knowledge: Knowledge
    rulesets: RuleSets
    checker: Checker
    reviews: ReviewRuns
    runs: Runs
    flags: Flags
    queries: ReviewQueries
    projection: Projection
    collection: CollectionReader
    _refreshing: list[asyncio.Task[None]] = field(default_factory=list)

    def start_refreshing(self) -> None:
        """Keep the active rule set and the knowledge shelf current in the background (until ``close``), so that
        CheckStay only reads snapshots."""
        if not self._refreshing:
            self._refreshing = [asyncio.create_task(self.rulesets.refresh_forever()),
                                asyncio.create_task(self.knowledge.refresh_forever())]

    async def close(self) -> None:
        for task in self._refreshing:
            task.cancel()
        for task in self._refreshing:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.projection.stop()
        await self.runs.close()
        await self.collection.close()
        await self.engine.dispose()


@dataclass
class PerformanceApp:
    """Performance evaluation: runs over the case feed, results in schema ``evaluation``."""

    engine: AsyncEngine
    new_uow: Callable[[], EvaluationUnitOfWork]
    runs: Runs
    evaluation: EvaluationRuns
    channels: list[grpc.aio.Channel]

    async def close(self) -> None:
        await self.runs.close()
        for channel in self.channels:
            await channel.close(None)
        await self.engine.dispose()


@dataclass
class EvaluationApp:
    review: ReviewApp
    performance: PerformanceApp


async def build_app(runtime: Runtime) -> EvaluationApp:
    return EvaluationApp(await build_review(runtime), build_performance(runtime))


def build_performance(runtime: Runtime) -> PerformanceApp:
    engine = runtime.engine(pool_size=8)
    sessions = session_factory(engine)

    def new_uow() -> EvaluationUnitOfWork:
        return EvaluationUnitOfWork(sessions)

    collection = open_service_channel(runtime.settings, "collection", stream_deadline_seconds=600)
    coding = open_service_channel(runtime.settings, "coding", [("medpay.coding.v1.CodingService", "GetCode")])
    settlement = open_service_channel(runtime.settings, "settlement")
    evaluation = EvaluationRuns(new_uow, CollectionFeed(collection), settlement=SettlementRuns(settlement),
                                names=InstitutionNames(coding), review=True)
    kind = JobKind(EVALUATION_RUN, evaluation.job, metadata=lambda run: evaluation_run_to_proto(run, None),
                   response=lambda run: evaluation_run_to_proto(run, None))
    runs = Runs(engine, performance_runs_table, [kind], domain="evaluation.medpay")
    evaluation.runs = runs
    return PerformanceApp(engine, new_uow, runs, evaluation, [collection, coding, settlement])


async def build_review(runtime: Runtime) -> ReviewApp:
    s = runtime.settings
    engine = runtime.engine(pool_size=10)
    sessions = session_factory(engine)

    def new_uow() -> ReviewUnitOfWork:
        return ReviewUnitOfWork(sessions)

    codes = _code_tables(runtime)
    knowledge, rulesets = Knowledge(new_uow), RuleSets(new_uow)
    collection = CollectionReader(s.collection_address, auth=caller_auth(s))
    projection = Projection(new_uow, collection)
    reviews = ReviewRuns(new_uow, rulesets, knowledge, collection, codes=codes, projection=projection)
    runs = Runs(engine, review_tables.run, [JobKind(JOB_KIND, reviews.job, response=review_run_response)],
                domain="review.medpay")
    checker = Checker(PersonStays(engine), rulesets, knowledge, codes)
    return ReviewApp(engine, new_uow, knowledge, rulesets, checker, reviews, runs, Flags(new_uow),
                     ReviewQueries(new_uow), projection, collection)


def _code_tables(runtime: Runtime) -> tuple[frozenset[str], frozenset[str]] | None:
    """The ICD tables for the code checks of data quality, when the reference material has them."""
    from services.grouping.adapters.scheme_files import load_code_tables

    try:
        tables = load_code_tables(runtime.reference_dir)
    except FileNotFoundError as missing:
        log.warning("code checks of data quality off: %s", missing)
        return None
    return tables.diagnoses, tables.procedures


def service_spec(app: EvaluationApp) -> ServiceSpec:
    review, performance = app.review, app.performance
    servicer = ReviewServicer(knowledge=review.knowledge, rulesets=review.rulesets, checker=review.checker,
                              reviews=review.reviews, runs=review.runs, flags=review.flags, queries=review.queries)
    evaluation = EvaluationServicer(performance.runs, performance.evaluation, performance.new_uow)

    def register(server: grpc.aio.Server) -> None:
        add_review(servicer, server)
        add_evaluation(evaluation, server)
        add_operations(server, review.runs, performance.runs)

    async def on_start() -> None:
        review.start_refreshing()
        await review.runs.open()
        await review.projection.follow_known()
        await performance.runs.open()

    async def on_stop() -> None:
        await performance.close()
        await review.close()

    return ServiceSpec("evaluation", register, [EVALUATION_SERVICE, REVIEW_SERVICE, OPERATIONS_SERVICE], on_start,
                       on_stop)
