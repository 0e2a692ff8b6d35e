"""Wiring of the grouping service: load the packs and DIP catalogues once per process, expose them over gRPC.

``build_registry`` is the database-free part (CHS-DRG packs, code tables, the reference directory's DIP
catalogues): enough for grouping alone (``medpay grouping batch``, tests). ``build_app`` adds the database:
stored DIP catalogue versions (refreshed every ``MEDPAY_DIP_REFRESH_SECONDS``), catalogue builds as runs, and
google.longrunning.Operations for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.engine import session_factory
from libs.common.grpc.server import ServiceSpec
from libs.common.runs import Runs
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime

from .adapters import tables
from .adapters.collection_feed import CollectionCaseFeed
from .adapters.loading import load_registry
from .api.dip import catalogue_from_result
from .api.servicer import SERVICE_NAME, GroupingServicer, add_to_server
from .service_layer.dip_service import DipBuilds
from .service_layer.registry import SchemeRegistry
from .service_layer.unit_of_work import GroupingUnitOfWork


def build_registry(runtime: Runtime) -> SchemeRegistry:
    return load_registry(runtime.reference_dir, _wanted(runtime))


@dataclass
class GroupingApp:
    registry: SchemeRegistry
    engine: AsyncEngine
    builds: DipBuilds | None
    refresh_seconds: float
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        dip = self.registry.dip
        if dip is not None:
            await dip.refresh()
            self._tasks.append(asyncio.create_task(dip.refresh_forever(self.refresh_seconds)))
        if self.builds is not None and self.builds.runs is not None:
            await self.builds.runs.open()

    async def stop(self) -> None:
        if self.builds is not None and self.builds.runs is not None:
            await self.builds.runs.close()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.dispose()


def build_app(runtime: Runtime) -> GroupingApp:
    """The service with its database; the collection service's case feed for builds is read at
    ``MEDPAY_COLLECTION_ADDRESS`` when a build asks for it."""
    engine = runtime.engine(pool_size=4)
    sessions = session_factory(engine)
    registry = load_registry(runtime.reference_dir, _wanted(runtime), lambda: GroupingUnitOfWork(sessions))
    builds = None
    if registry.dip is not None:
        feed = CollectionCaseFeed(runtime.settings)
        builds = DipBuilds(engine, registry.dip, feed, feed.head)
        builds.runs = Runs(engine, tables.run, [builds.kind(response=catalogue_from_result)],
                           domain="grouping.medpay")
    return GroupingApp(registry, engine, builds, runtime.settings.dip_refresh_seconds)


def service_spec(registry: SchemeRegistry) -> ServiceSpec:
    """Grouping without a database (no stored DIP catalogues, no builds)."""
    servicer = GroupingServicer(registry)
    return ServiceSpec("grouping", lambda server: add_to_server(servicer, server), [SERVICE_NAME])


def app_spec(app: GroupingApp) -> ServiceSpec:
    servicer = GroupingServicer(app.registry, app.builds)
    runs = [app.builds.runs] if app.builds is not None and app.builds.runs is not None else []

    def register(server: grpc.aio.Server) -> None:
        add_to_server(servicer, server)
        if runs:
            add_operations(server, *runs)

    return ServiceSpec("grouping", register, [SERVICE_NAME, *([OPERATIONS_SERVICE] if runs else [])],
                       on_start=app.start, on_stop=app.stop)


def _wanted(runtime: Runtime) -> list[str]:
    return [s.strip() for s in runtime.settings.grouping_schemes.split(",") if s.strip()]
