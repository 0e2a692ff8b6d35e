"""The in-memory index of active versions that validation reads, refreshed when a version changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from libs.common.refresh import refresh_forever

from ..domain.model import ActiveIndex
from .unit_of_work import CodingUnitOfWork

log = logging.getLogger(__name__)


class IndexHolder:
    """Holds the current ``ActiveIndex``; ``refresh`` reloads only when the database fingerprint moved.

    Readers take ``current`` (an immutable value), so a refresh never disturbs a validation in flight.
    """

    def __init__(self, new_uow: Callable[[], CodingUnitOfWork]) -> None:
        self._new_uow = new_uow
        self.current = ActiveIndex({}, frozenset())
        self._lock = asyncio.Lock()

    async def refresh(self) -> bool:
        async with self._lock:
            async with self._new_uow() as uow:
                if await uow.codes.fingerprint() == self.current.fingerprint and self.current.fingerprint:
                    return False
                self.current = await uow.codes.active_index()
            log.info("code index loaded", extra={"fields": {
                "systems": {k: v.version for k, v in self.current.versions.items()}}})
            return True

    async def refresh_forever(self, every_seconds: float) -> None:
        await refresh_forever(self.refresh, every_seconds, keeping="the code index already loaded")
