"""The worker side of ``preparers``: a process that prepares bulk-import chunks as the importing process would,
with its own collection app (database pool, coding and grouping clients, the door's replies)."""

from __future__ import annotations

import asyncio
from typing import Any

from libs.common.config import Settings
from libs.common.runtime import Runtime

from .line_readers import freeze_collector
from .preparers import Batch, watch_parent

_worker: dict[str, Any] = {}
"""This worker's event loop (its connections belong to it) and its importer."""


def start(settings: Settings, parent: int) -> None:
    """A worker process's initializer: the collection app built from the importing process's settings."""
    watch_parent(parent)
    freeze_collector()
    from ..bootstrap import build_app  # here, not at import: the importing process imports this module too
    from .bulk_import import BulkImport

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = loop.run_until_complete(build_app(Runtime(settings)))
    _worker["loop"] = loop
    _worker["importer"] = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply)


def prepare(batch: Batch, digest: str) -> Any:
    """A chunk prepared, in the form that crosses to the importing process (``bulk_import.wire_form``)."""
    assert _worker, "a worker process is started by chunk_worker.start"
    return _worker["loop"].run_until_complete(_worker["importer"].prepare_wire(batch, digest))
