"""The unit of work of the settlement service: one transaction, the repositories over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.db.uow import UnitOfWork

from ..adapters.policy_repository import PolicyRepository
from ..adapters.run_repository import SettlementRunRepository
from ..adapters.special_case_repository import SpecialCaseRepository as StoredSpecialCases
from ..adapters.weight_repository import WeightTableRepository
from .completion import SpecialCaseRepository


class SettlementUnitOfWork(UnitOfWork):
    policies: PolicyRepository
    weights: WeightTableRepository
    runs: SettlementRunRepository
    special_cases: SpecialCaseRepository
    special_cases_factory: ClassVar[Callable[[AsyncSession], SpecialCaseRepository]] = StoredSpecialCases
    """How the approved special cases are read: the special-case workflow's table (``special_case``)."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.policies = PolicyRepository(self.session)
        self.weights = WeightTableRepository(self.session)
        self.runs = SettlementRunRepository(self.session)
        self.special_cases = type(self).special_cases_factory(self.session)
        return self
