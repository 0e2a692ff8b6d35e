"""Wiring of the evaluation service process: the smart-review API (``medpay.review.v1``) over schema ``review``;
performance evaluation (``medpay.evaluation.v1``) joins here with its own parts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.server import ServiceSpec
from libs.common.runs import JobKind, Runs
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime

from .adapters.review import tables as review_tables
from .adapters.review.collection import CollectionReader
from .api.review.servicer import SERVICE_NAME as REVIEW_SERVICE
from .api.review.servicer import ReviewServicer, review_run_response
from .api.review.servicer import add_to_server as add_review
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

    async def close(self) -> None:
        await self.projection.stop()
        await self.runs.close()
        await self.collection.close()
        await self.engine.dispose()


@dataclass
class EvaluationApp:
    review: ReviewApp


async def build_app(runtime: Runtime) -> EvaluationApp:
    return EvaluationApp(await build_review(runtime))


async def build_review(runtime: Runtime) -> ReviewApp:
    s = runtime.settings
    engine = runtime.engine(pool_size=10)
    sessions = session_factory(engine)

    def new_uow() -> ReviewUnitOfWork:
        return ReviewUnitOfWork(sessions)

    codes = _code_tables(runtime)
    knowledge, rulesets = Knowledge(new_uow), RuleSets(new_uow)
    collection = CollectionReader(s.collection_address, token=s.auth_token.get_secret_value() if s.auth_token
                                  else None)
    projection = Projection(new_uow, collection)
    reviews = ReviewRuns(new_uow, rulesets, knowledge, collection, codes=codes, projection=projection)
    runs = Runs(engine, review_tables.run, [JobKind(JOB_KIND, reviews.job, response=review_run_response)],
                domain="review.medpay")
    return ReviewApp(engine, new_uow, knowledge, rulesets, Checker(new_uow, rulesets, knowledge, codes), reviews,
                     runs, Flags(new_uow), ReviewQueries(new_uow), projection, collection)


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
    review = app.review
    servicer = ReviewServicer(knowledge=review.knowledge, rulesets=review.rulesets, checker=review.checker,
                              reviews=review.reviews, runs=review.runs, flags=review.flags, queries=review.queries)

    def register(server: grpc.aio.Server) -> None:
        add_review(servicer, server)
        add_operations(server, review.runs)

    async def on_start() -> None:
        await review.runs.open()
        await review.projection.follow_known()

    return ServiceSpec("evaluation", register, [REVIEW_SERVICE, OPERATIONS_SERVICE], on_start, review.close)
