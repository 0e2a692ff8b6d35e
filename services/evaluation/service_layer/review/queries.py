"""Reads for the API's List and Get methods: pages of stored knowledge, rule sets and runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from libs.common.errors import NotFound

from ...adapters.review.repository import StoredKnowledge, StoredRuleSet, StoredRun
from .unit_of_work import ReviewUnitOfWork


class ReviewQueries:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork]) -> None:
        self._new_uow = new_uow

    async def knowledge_versions(self, after: str, limit: int) -> list[StoredKnowledge]:
        async with self._new_uow() as uow:
            return await uow.review.knowledge_versions(after, limit)

    async def knowledge_items(self, version_id: str, after: str, limit: int) -> list[Any]:
        async with self._new_uow() as uow:
            if await uow.review.knowledge(version_id) is None:
                raise NotFound(f"no knowledge version {version_id}", reason="KNOWLEDGE_NOT_FOUND",
                               metadata={"version": version_id})
            return await uow.review.knowledge_items(version_id, after, limit)

    async def rule_sets(self, after: str, limit: int) -> list[StoredRuleSet]:
        async with self._new_uow() as uow:
            return await uow.review.rule_sets(after, limit)

    async def run(self, name: str) -> StoredRun:
        async with self._new_uow() as uow:
            found = await uow.review.run(name)
        if found is None:
            raise NotFound(f"no finished review run {name}", reason="REVIEW_RUN_NOT_FOUND", metadata={"name": name})
        return found

    async def runs(self, region: str, after: str, limit: int) -> list[StoredRun]:
        async with self._new_uow() as uow:
            return await uow.review.runs(region, after, limit)
