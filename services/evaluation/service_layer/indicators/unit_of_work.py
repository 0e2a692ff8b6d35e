"""The unit of work of performance evaluation."""

from __future__ import annotations

from typing import Self

from libs.common.db.uow import UnitOfWork

from ...adapters.indicators.repository import EvaluationRepository


class EvaluationUnitOfWork(UnitOfWork):
    results: EvaluationRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.results = EvaluationRepository(self.session)
        return self
