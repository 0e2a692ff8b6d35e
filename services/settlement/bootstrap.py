"""Wiring of the settlement service process (``medpay.settlement.v1``, schema ``settlement``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.server import ServiceSpec
from libs.common.runtime import Runtime

from .api.servicer import SERVICE_NAME, SettlementServicer, add_to_server
from .service_layer.completion import RunCompletionHook
from .service_layer.ledger import Ledger, post_completed_run
from .service_layer.policies import Policies
from .service_layer.special_cases import SpecialCases
from .service_layer.unit_of_work import SettlementUnitOfWork


@dataclass
class SettlementApp:
    engine: AsyncEngine
    new_uow: Callable[[], SettlementUnitOfWork]
    policies: Policies
    completion_hooks: tuple[RunCompletionHook, ...] = ()
    ledger: Ledger | None = None
    special_cases: SpecialCases | None = None

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(runtime: Runtime, completion_hooks: tuple[RunCompletionHook, ...] = (post_completed_run,)
              ) -> SettlementApp:
    """The service's parts; ``completion_hooks`` are called in each settlement run's last transaction
    (``service_layer/completion.py``): by default the ledger posts the run."""
    engine = runtime.engine(pool_size=8)
    sessions = session_factory(engine)

    def new_uow() -> SettlementUnitOfWork:
        return SettlementUnitOfWork(sessions)

    return SettlementApp(engine, new_uow, Policies(new_uow), completion_hooks, Ledger(new_uow),
                         SpecialCases(new_uow))


def service_spec(app: SettlementApp) -> ServiceSpec:
    servicer = SettlementServicer(app.policies)

    def register(server: grpc.aio.Server) -> None:
        add_to_server(servicer, server)

    async def on_start() -> None:
        return None

    return ServiceSpec("settlement", register, [SERVICE_NAME], on_start, app.close)
