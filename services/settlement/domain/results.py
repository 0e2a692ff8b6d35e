"""What a settlement produces: per-case results (columns), per-hospital statements and the year's figures."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction

from .policy import Method

NONE = -1
"""Marks an empty cell in the integer result columns (every real value there is >= 0)."""


class Kind(IntEnum):
    """How a case is paid (FORMAT step 2); the text is the ``kind`` column of ``cases.csv``."""

    NORMAL = 0
    HIGH = 1
    LOW = 2
    BY_ITEM = 3
    SPECIAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class CaseResults:
    """Row ``i`` is case ``i`` of the :class:`~.cases.CaseTable`; integers, :data:`NONE` where FORMAT leaves the
    cell empty."""

    kind: array[int]
    rw: array[int]
    """1/10,000; NONE when the group is not weighted."""
    base_points: array[int]
    """1/10,000 (point method, normal/high/low)."""
    points: array[int]
    """1/10,000 (point method)."""
    standard: array[int]
    """Payment standard in fen (rate method, normal/high/low)."""
    basis: array[int]
    """What the case is paid on, in fen (rate method)."""
    fund_due: array[int]
    """fen (rate method)."""
    halved: array[int]


def empty_results(n: int) -> CaseResults:
    def column(code: str, fill: int) -> array[int]:
        return array(code, [fill]) * n

    return CaseResults(kind=column("b", 0), rw=column("l", NONE), base_points=column("q", NONE),
                       points=column("q", NONE), standard=column("q", NONE), basis=column("q", NONE),
                       fund_due=column("q", NONE), halved=column("b", 0))


@dataclass(frozen=True)
class MonthLine:
    """One discharge month of a hospital: its points (1/10,000) or fund due (fen), and the advance in fen."""

    month: int
    """:func:`~.cases.month_key`."""
    amount: int
    advance: int


@dataclass(frozen=True)
class HospitalStatement:
    hospital: str
    cases: int
    points: int | None
    """1/10,000; ``None`` under the rate method."""
    cmi: int
    """1/10,000."""
    gross: int
    """fen: points x point value x fund ratio, or the fund due under the rate method."""
    assessed: int
    advances: int
    deductions: int
    balance: int
    surplus: int | None
    """fen, rate method only: sum of (basis - cost), shown, not paid."""
    months: tuple[MonthLine, ...]


@dataclass(frozen=True)
class Settlement:
    method: Method
    results: CaseResults
    hospitals: tuple[HospitalStatement, ...]
    """Sorted by institution code."""
    avg_all: Fraction
    total_points: int | None = None
    """1/10,000."""
    fund_ratio: int | None = None
    """1/1,000,000."""
    point_value: int | None = None
    """yuan per point in 1/1,000,000."""
    rates: dict[str, int] | None = None
    """level -> rate in fen (rate method)."""

    @property
    def sum_balance(self) -> int:
        return sum(h.balance for h in self.hospitals)
