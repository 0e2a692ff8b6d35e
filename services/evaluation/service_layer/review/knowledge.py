"""Knowledge library versions: imported from items.csv with an effective date, read back as a shelf of libraries
(the version in force on a stay's date judges it)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date

from libs.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound

from ...adapters.review.files import knowledge_from_text
from ...adapters.review.repository import StoredKnowledge
from ...domain.review.knowledge import KnowledgeError, KnowledgeLibrary, KnowledgeShelf
from .unit_of_work import ReviewUnitOfWork

VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REFRESH_SECONDS = 10.0
"""How often a process looks for versions imported by another replica."""


class Knowledge:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork]) -> None:
        self._new_uow = new_uow
        self._shelf: KnowledgeShelf | None = None
        self._loaded = 0.0

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
        self._shelf = None
        assert stored is not None
        return stored

    async def shelf(self) -> KnowledgeShelf:
        """Every version, rebuilt from the stored files; cached, looked at again every few seconds."""
        if self._shelf is not None and time.monotonic() - self._loaded < REFRESH_SECONDS:
            return self._shelf
        async with self._new_uow() as uow:
            stored = await uow.review.knowledge_versions()
        current = {v.version: v for v in self._shelf.versions} if self._shelf else {}
        libraries = [current.get(s.version_id) or _library(s) for s in stored]
        self._shelf, self._loaded = KnowledgeShelf(tuple(libraries)), time.monotonic()
        return self._shelf

    async def get(self, version_id: str) -> StoredKnowledge:
        async with self._new_uow() as uow:
            stored = await uow.review.knowledge(version_id)
        if stored is None:
            raise NotFound(f"no knowledge version {version_id}", reason="KNOWLEDGE_NOT_FOUND",
                           metadata={"version": version_id})
        return stored


def _library(stored: StoredKnowledge) -> KnowledgeLibrary:
    return knowledge_from_text(stored.items_csv, version=stored.version_id, effective_from=stored.effective_date)
