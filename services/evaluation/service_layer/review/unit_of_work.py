"""Smart review's unit of work: one transaction per use case, over the ``review`` schema."""

from __future__ import annotations

from typing import Self

from libs.common.db.uow import UnitOfWork

from ...adapters.review.repository import ReviewRepository


class ReviewUnitOfWork(UnitOfWork):
    review: ReviewRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.review = ReviewRepository(self.session)
        return self
