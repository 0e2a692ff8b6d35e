"""Wiring of the settlement service process (``medpay.settlement.v1``, schema ``settlement``): policies, weight
tables and settlement runs over one engine, runs executed by the run framework and served as operations, the
case feed read from collection, and (``settlement_review_deductions``) the clearings' deductions from smart review."""

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

from .adapters.collection_feed import CollectionFeed
from .adapters.review_deductions import IDEMPOTENT as IDEMPOTENT_REVIEW_METHODS
from .adapters.review_deductions import ReviewClient
from .adapters.tables import runs_table
from .api import ledger_servicer, special_case_servicer
from .api.mapping import settlement_run_operation, weight_table_operation
from .api.servicer import SERVICE_NAME, SettlementServicer, TenantOf, add_to_server, bureau
from .service_layer.completion import RunCompletionHook
from .service_layer.feed import CaseFeed
from .service_layer.ledger import Ledger, post_completed_run
from .service_layer.policies import Policies
from .service_layer.review import ReviewDeductions
from .service_layer.settlement_runs import KIND as RUN_KIND
from .service_layer.settlement_runs import SettlementRuns
from .service_layer.special_cases import SpecialCases
from .service_layer.unit_of_work import SettlementUnitOfWork
from .service_layer.weight_tables import KIND as WEIGHTS_KIND
from .service_layer.weight_tables import WeightTables

STREAM_DEADLINE_SECONDS = 600


@dataclass
class SettlementApp:
    engine: AsyncEngine
    new_uow: Callable[[], SettlementUnitOfWork]
    policies: Policies
    weight_tables: WeightTables
    settlement: SettlementRuns
    runs: Runs
    feed: CaseFeed
    channels: list[grpc.aio.Channel]
    ledger: Ledger
    special_cases: SpecialCases

    async def close(self) -> None:
        await self.runs.close()
        for channel in self.channels:
            await channel.close(None)
        await self.engine.dispose()


def build_app(runtime: Runtime, completion_hooks: tuple[RunCompletionHook, ...] = (post_completed_run,),
              feed: CaseFeed | None = None, review: ReviewDeductions | None = None) -> SettlementApp:
    """The service's parts; ``completion_hooks`` are called in each settlement run's last transaction
    (``service_layer/completion.py``): by default the ledger posts the run; ``feed`` defaults to collection's, at
    its configured address; ``review`` (the deductions a clearing applies, and those confirmed for a cleared year
    that the next runs carry) to smart review's at the evaluation
    service's address when ``settlement_review_deductions`` is on, else none."""
    engine = runtime.engine(pool_size=8)
    sessions = session_factory(engine)

    def new_uow() -> SettlementUnitOfWork:
        return SettlementUnitOfWork(sessions)

    channels = []
    if feed is None:
        channel = open_service_channel(runtime.settings, "collection", stream_deadline_seconds=STREAM_DEADLINE_SECONDS)
        channels.append(channel)
        feed = CollectionFeed(channel)
    if review is None and runtime.settings.settlement_review_deductions:
        channel = open_service_channel(runtime.settings, "evaluation", IDEMPOTENT_REVIEW_METHODS)
        channels.append(channel)
        review = ReviewClient(channel)
    policies = Policies(new_uow)
    tables = WeightTables(new_uow, feed, policies)
    settlement = SettlementRuns(new_uow, feed, policies, tables, completion_hooks, review=review)
    runs = Runs(engine, runs_table, [
        JobKind(WEIGHTS_KIND, tables.job, metadata=weight_table_operation, response=weight_table_operation),
        JobKind(RUN_KIND, settlement.job, metadata=settlement_run_operation, response=settlement_run_operation),
    ], domain="settlement.medpay")
    tables.runs = settlement.runs = runs
    return SettlementApp(engine, new_uow, policies, tables, settlement, runs, feed, channels, Ledger(new_uow),
                         SpecialCases(new_uow))


def service_spec(app: SettlementApp, tenant_of: TenantOf = bureau) -> ServiceSpec:
    servicer = SettlementServicer(app.policies, app.weight_tables, app.settlement, app.runs, tenant_of)

    def register(server: grpc.aio.Server) -> None:
        add_to_server(servicer, server)
        ledger_servicer.add_to_server(ledger_servicer.LedgerServicer(app.ledger, tenant_of), server)
        special_case_servicer.add_to_server(special_case_servicer.SpecialCaseServicer(app.special_cases, tenant_of),
                                            server)
        add_operations(server, app.runs)

    return ServiceSpec("settlement", register, [SERVICE_NAME, OPERATIONS_SERVICE, ledger_servicer.SERVICE_NAME,
                                                special_case_servicer.SERVICE_NAME], app.runs.open, app.close)
