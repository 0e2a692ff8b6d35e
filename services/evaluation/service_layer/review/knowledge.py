"""Knowledge library versions: imported from items.csv with an effective date, read back as a shelf of libraries
(the version in force on a stay's date judges it).

The shelf is an immutable snapshot that requests only read: a background task (``refresh_forever``, started with
the server) looks for versions imported by another replica every ``refresh_seconds``, and an import in this process
refreshes it before it answers, so no CheckStay pays for a reload. Only a request before the first load reads the
database itself."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date

from libs.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from libs.common.refresh import refresh_forever

from ...adapters.review.files import knowledge_from_text
from ...adapters.review.repository import StoredKnowledge
from ...domain.review.knowledge import KnowledgeError, KnowledgeLibrary, KnowledgeShelf
from .unit_of_work import ReviewUnitOfWork

VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REFRESH_SECONDS = 10.0
"""How often a process looks for versions imported by another replica."""

log = logging.getLogger(__name__)


class Knowledge:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork]) -> None:
        self._new_uow = new_uow
        self._shelf: KnowledgeShelf | None = None
        self._reads = 0  # tickets of reads of the versions: an older read never replaces a newer one
        self._shown = 0
        self.refresh_seconds = REFRESH_SECONDS
        self.refreshes = 0
        """Reads of the stored versions (background, import, or a request before the first load)."""
        self.failed_refreshes = 0
        self.request_loads = 0
        """Reads a request had to wait for: only before the first load."""

    async def import_version(self, version_id: str, effective: date, items_csv: str, creator: str) -> StoredKnowledge:
        if not VERSION_ID.fullmatch(version_id):
            raise InvalidArgument.field("knowledge_version_id", "1-64 letters, digits and . _ - are allowed")
        try:
            library = knowledge_from_text(items_csv, version=version_id, effective_from=effective)
        except KnowledgeError as bad:
            raise InvalidArgument(f"items_csv: {bad}", reason="KNOWLEDGE_INVALID",
                                  violations=tuple(FieldViolation("items_csv", p) for p in bad.problems)) from None
        async with self._new_uow() as uow:
            existing = await uow.review.knowledge(version_id)
            if existing is not None:
                if existing.digest == library.digest and existing.effective_date == effective:
                    return existing
                raise AlreadyExists(f"knowledge version {version_id} exists with other content; import a new version",
                                    reason="KNOWLEDGE_VERSION_EXISTS", metadata={"version": version_id})
            await uow.review.save_knowledge(library, items_csv, creator)
            stored = await uow.review.knowledge(version_id)
            await uow.commit()
        await self.refresh()
        assert stored is not None
        return stored

    async def shelf(self) -> KnowledgeShelf:
        """Every version, rebuilt from the stored files: the current snapshot (read first if there is none yet)."""
        shelf = self._shelf
        if shelf is None:
            self.request_loads += 1
            shelf = await self.refresh()
        return shelf

    async def refresh(self) -> KnowledgeShelf:
        """Read the stored versions and show them (unless a newer read was shown meanwhile); versions already on the
        shelf are kept, not read or parsed again (only the ids are)."""
        self._reads += 1
        ticket = self._reads
        current = {v.version: v for v in self._shelf.versions} if self._shelf else {}
        async with self._new_uow() as uow:
            ids = await uow.review.knowledge_version_ids()
            new = [await uow.review.knowledge(i) for i in ids if i not in current]
        self.refreshes += 1
        libraries = [current[i] for i in ids if i in current] + [_library(s) for s in new if s is not None]
        shelf = KnowledgeShelf(tuple(libraries))
        if ticket > self._shown:
            self._shown, self._shelf = ticket, shelf
        return self._shelf or shelf

    async def refresh_forever(self) -> None:
        """Keep the shelf current until cancelled; a failed read keeps the last good one."""
        await refresh_forever(self.refresh, self.refresh_seconds, at_once=True, on_failure=self._failed,
                              keeping="the knowledge versions already loaded")

    def _failed(self) -> None:
        self.failed_refreshes += 1

    async def get(self, version_id: str) -> StoredKnowledge:
        async with self._new_uow() as uow:
            stored = await uow.review.knowledge(version_id)
        if stored is None:
            raise NotFound(f"no knowledge version {version_id}", reason="KNOWLEDGE_NOT_FOUND",
                           metadata={"version": version_id})
        return stored


def _library(stored: StoredKnowledge) -> KnowledgeLibrary:
    return knowledge_from_text(stored.items_csv, version=stored.version_id, effective_from=stored.effective_date)
