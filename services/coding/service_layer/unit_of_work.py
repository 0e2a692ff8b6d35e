"""The coding service's unit of work: one transaction, the code repository on it."""

from __future__ import annotations

from typing import Self

from libs.common.db.uow import UnitOfWork

from ..adapters.repository import CodeRepository


class CodingUnitOfWork(UnitOfWork):
    codes: CodeRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.codes = CodeRepository(self.session)
        return self
