"""Wiring of the coding service: the only place that turns settings into objects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.server import ServiceSpec
from libs.common.runtime import Runtime

from .api.servicer import SERVICE_NAME, CodingServicer, add_to_server
from .service_layer.index import IndexHolder
from .service_layer.unit_of_work import CodingUnitOfWork


@dataclass
class CodingApp:
    engine: AsyncEngine
    new_uow: Callable[[], CodingUnitOfWork]
    index: IndexHolder

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(runtime: Runtime) -> CodingApp:
    engine = runtime.engine()
    sessions = session_factory(engine)

    def new_uow() -> CodingUnitOfWork:
        return CodingUnitOfWork(sessions)

    return CodingApp(engine, new_uow, IndexHolder(new_uow))


def service_spec(app: CodingApp, refresh_seconds: float) -> ServiceSpec:
    servicer = CodingServicer(app.new_uow, app.index)
    tasks: list[asyncio.Task[None]] = []

    async def on_start() -> None:
        await app.index.refresh()
        tasks.append(asyncio.create_task(app.index.refresh_forever(refresh_seconds)))

    async def on_stop() -> None:
        for task in tasks:
            task.cancel()
        await app.close()

    return ServiceSpec("coding", lambda server: add_to_server(servicer, server), [SERVICE_NAME], on_start, on_stop)
