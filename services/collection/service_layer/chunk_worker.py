"""The worker side of ``preparers``: a process that prepares bulk-import chunks as the importing process would.

It builds only what preparing a chunk needs (a small database pool for the records and the reply serials, the
coding and grouping clients, the importing process's scheme schedule, the door's replies), not the whole
service: its start-up (imports, connections) is CPU the import's other processes would have had.
"""

from __future__ import annotations

import asyncio
from typing import Any

from libs.common.config import Settings
from libs.common.runtime import Runtime

from ..domain.schemes import SchemeSchedule
from .line_readers import freeze_collector
from .preparers import Batch, WorkerUnavailable, lower_priority, watch_parent

_worker: dict[str, Any] = {}
"""This worker's event loop (its connections belong to it) and its chunk preparation."""


def start(parent: int) -> None:
    """A worker process's initializer (forked or spawned: ``preparers.ChunkWorkers``)."""
    watch_parent(parent)
    freeze_collector()
    lower_priority()


async def _preparation(settings: Settings, schedule: SchemeSchedule) -> Any:
    # Imported here, not with this module: the importing process imports it too, and has all of them already.
    from libs.common.db.engine import session_factory
    from libs.common.grpc.client import caller_auth

    from ..adapters.clients import CodingClient, GroupingClient
    from ..adapters.door_store import PostgresSerials
    from ..api.replies import Replies
    from .bulk_import import ChunkPreparation
    from .cases import CaseChecker
    from .unit_of_work import CollectionUnitOfWork

    engine = Runtime(settings).engine(pool_size=2)
    sessions = session_factory(engine)

    def new_uow() -> CollectionUnitOfWork:
        return CollectionUnitOfWork(sessions)

    auth = caller_auth(settings)
    checker = CaseChecker(CodingClient(settings.coding_address, auth=auth),
                          GroupingClient(settings.grouping_address, auth=auth), schedule)
    serials = PostgresSerials(engine)  # blocks of the door's serials, as every replica draws them
    await serials.start()
    replies = Replies(settings.platform_region, serials)
    return ChunkPreparation(new_uow, checker, replies.reply)


def prepare(settings: Settings, schedule: SchemeSchedule, batch: Batch, digest: str) -> Any:
    """A chunk prepared, in the form that crosses to the importing process (``bulk_import.to_wire``). The first
    chunk builds what preparing needs (its connections are this process's own, made after a fork)."""
    if not _worker:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            chunks = loop.run_until_complete(_preparation(settings, schedule))
        except Exception as failed:  # whatever it is, this worker cannot prepare chunks
            raise WorkerUnavailable(f"{type(failed).__name__}: {failed}") from None
        _worker.update(loop=loop, chunks=chunks)
    return _worker["loop"].run_until_complete(_worker["chunks"].prepare_wire(batch, digest))
