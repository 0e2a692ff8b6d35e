"""Where other parts of the settlement service plug into a run: the run-completion hook and the source of
approved special cases.

**Run completion.** A settlement run writes its case results, its statements and its ``settlement_run`` row in
one last transaction (a :class:`~.unit_of_work.SettlementUnitOfWork`). Before that transaction commits, every
:data:`RunCompletionHook` the service was built with is awaited with the same unit of work and the
:class:`CompletedRun`: whatever a hook writes through ``uow.session`` commits with the run or not at all, and a
hook that raises fails the run (nothing of it is stored; a ``MedpayError`` keeps its code and reason). The last
transaction happens once per run: a re-run of the same run key finds the finished run and calls no hook again.
The ledger posts a run's entries from here (``bootstrap.build_app(..., completion_hooks=[...])``).

**Approved special cases.** A run asks ``uow.special_cases.approved(region, year)`` for the cases approved as
special (特病单议) as of the run's start, by list id (``setl_list_id``); they settle as FORMAT.md says and count
against ``special_cases.cap_share``. Until the special-case workflow provides its repository
(``SettlementUnitOfWork.special_cases_factory``), there are none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .unit_of_work import SettlementUnitOfWork


@dataclass(frozen=True)
class StatementTotals:
    """What one hospital's statement of a run says, in fen (the figures the ledger posts)."""

    fixmedins_code: str
    gross: int
    """What its cases are worth at the run's point value (year-end clearing) or 0 (a monthly advance)."""
    assessed: int
    """``gross`` after the assessment coefficient (year-end clearing) or 0."""
    advances: int
    """Advanced by this run (a monthly advance), or advanced over the year (year-end clearing)."""
    adjustments: int
    """Corrections of earlier months' advances made by this run (revised or revoked lists), signed."""
    deductions: int
    balance: int
    """What this run pays the hospital (negative: the hospital owes it back)."""


@dataclass(frozen=True)
class CompletedRun:
    """A settlement run at the moment its results are stored."""

    run_id: str
    name: str
    """``regions/{region}/settlementRuns/{run_id}``."""
    region: str
    period: str
    """``2026-03`` (a monthly advance) or ``2026`` (year-end clearing)."""
    run_type: str
    """``advance`` or ``clearing``."""
    statements: tuple[StatementTotals, ...]
    """By institution code."""


RunCompletionHook = Callable[["SettlementUnitOfWork", CompletedRun], Awaitable[None]]
"""Called inside a run's last transaction, before it commits (see the module docstring)."""


class SpecialCaseRepository(Protocol):
    """Approved special cases, as the special-case workflow stores them."""

    async def approved(self, region: str, year: int) -> frozenset[str]:
        """The ``setl_list_id`` of every case of ``region`` and settlement ``year`` approved as special now."""
        ...

    async def lock_year(self, region: str, year: int) -> None:
        """Wait for the decisions of ``region`` and ``year`` in flight; hold off new ones to the transaction's end."""
        ...


async def complete_run(uow: SettlementUnitOfWork, completed: CompletedRun,
                       hooks: tuple[RunCompletionHook, ...]) -> None:
    """Run every completion hook in the run's unit of work, in the order given (before the caller commits)."""
    for hook in hooks:
        await hook(uow, completed)
