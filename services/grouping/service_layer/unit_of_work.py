"""The grouping service's unit of work: one transaction, the DIP catalogue repository on it."""

from __future__ import annotations

from typing import Self

from libs.common.db.uow import UnitOfWork

from ..adapters.dip_repository import DipCatalogueRepository


class GroupingUnitOfWork(UnitOfWork):
    dip: DipCatalogueRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.dip = DipCatalogueRepository(self.session)
        return self
