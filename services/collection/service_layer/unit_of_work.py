"""The collection service's unit of work."""

from __future__ import annotations

from typing import Self

from libs.common.db.uow import UnitOfWork

from ..adapters.repository import CollectionRepository


class CollectionUnitOfWork(UnitOfWork):
    lists: CollectionRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.lists = CollectionRepository(self.session)
        return self
