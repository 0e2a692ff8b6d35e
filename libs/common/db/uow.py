"""Unit of work: one transaction per use case; rolls back unless the handler commits."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..telemetry import span


class UnitOfWork:
    """Base for each service's unit of work, which adds its repositories in ``__aenter__``."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        with span("db.commit", SpanKind.CLIENT, **{"db.system": "postgresql"}):
            await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
