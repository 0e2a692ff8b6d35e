"""Wiring of the collection service: gRPC for the prefecture platforms, HTTP for the hospitals, one service layer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.server import ServiceSpec
from libs.common.runtime import Runtime

from .adapters.clients import CodingClient, GroupingClient
from .api.gateway import Gateway
from .api.http import NationalInterface
from .api.servicer import SERVICE_NAME, CollectionServicer, add_to_server
from .domain.schemes import SchemeSchedule
from .service_layer.cases import CaseChecker
from .service_layer.feed import CaseFeed
from .service_layer.joins import Joiner
from .service_layer.queries import Lists
from .service_layer.records import RecordIntake
from .service_layer.unit_of_work import CollectionUnitOfWork
from .service_layer.uploads import Uploads

log = logging.getLogger(__name__)
PREFERRED_SCHEME = "chs-drg-1.1"


@dataclass
class CollectionApp:
    engine: AsyncEngine
    new_uow: Callable[[], CollectionUnitOfWork]
    coding: CodingClient
    grouping: GroupingClient
    uploads: Uploads
    lists: Lists
    interface: NationalInterface
    schedule: SchemeSchedule
    checker: CaseChecker
    joiner: Joiner
    records: RecordIntake
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _sweeper: asyncio.Task[None] | None = None

    async def close(self) -> None:
        await self.coding.close()
        await self.grouping.close()
        await self.engine.dispose()


async def build_app(runtime: Runtime) -> CollectionApp:
    s = runtime.settings
    token = s.auth_token.get_secret_value() if s.auth_token else None
    engine = runtime.engine(pool_size=24)
    sessions = session_factory(engine)

    def new_uow() -> CollectionUnitOfWork:
        return CollectionUnitOfWork(sessions)

    coding = CodingClient(s.coding_address, token=token)
    grouping = GroupingClient(s.grouping_address, token=token)
    schedule = SchemeSchedule.parse(s.collection_schemes, await _default_scheme(grouping))
    checker = CaseChecker(coding, grouping, schedule)
    uploads = Uploads(new_uow, checker)
    joiner = Joiner(new_uow, checker)
    lists = Lists(new_uow)
    gateway = Gateway.parse(s.gateway_keys.get_secret_value() if s.gateway_keys else "")
    interface = NationalInterface(uploads, lists, gateway, region=s.platform_region, max_body_bytes=s.max_body_bytes)
    return CollectionApp(engine, new_uow, coding, grouping, uploads, lists, interface, schedule, checker, joiner,
                         RecordIntake(new_uow, joiner))


async def _default_scheme(grouping: GroupingClient) -> str:
    """chs-drg-1.1 when the grouping service has it, else its first scheme (the bundled sample pack)."""
    available = await grouping.schemes()
    if not available:
        raise RuntimeError("the grouping service has no scheme loaded")
    return PREFERRED_SCHEME if PREFERRED_SCHEME in available else available[0]


def service_spec(app: CollectionApp, http_address: str, http_base: str) -> ServiceSpec:
    servicer = CollectionServicer(app.uploads, app.lists, CaseFeed(app.new_uow), app.records)
    host, _, port = http_address.rpartition(":")
    server = uvicorn.Server(uvicorn.Config(app.interface.app(http_base), host=host, port=int(port),
                                           log_level="warning", lifespan="off", access_log=False))

    async def on_start() -> None:
        app._tasks.append(asyncio.create_task(server.serve()))
        while not server.started:
            if app._tasks[0].done():
                app._tasks[0].result()  # raises why the HTTP server could not start
            await asyncio.sleep(0.05)
        log.info("national interface listening on http://%s%s", http_address, http_base)
        app._sweeper = asyncio.create_task(app.joiner.sweep_forever())  # joins what a crash left, then keeps at it

    async def on_stop() -> None:
        if app._sweeper is not None:
            app._sweeper.cancel()
        server.should_exit = True
        for task in app._tasks:
            await task
        await app.close()

    return ServiceSpec("collection", lambda grpc_server: add_to_server(servicer, grpc_server), [SERVICE_NAME],
                       on_start, on_stop)
