"""Evaluation periods: a month, a half year or a year (bureaus publish monthly and twice a year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from libs.common.dates import Period
from libs.common.errors import InvalidArgument

_TEXT = re.compile(r"([0-9]{4})(?:-(?:([0-9]{2})|H([12])))?")


class PeriodKind(StrEnum):
    MONTH = "month"
    HALF_YEAR = "half_year"
    YEAR = "year"


@dataclass(frozen=True, slots=True, order=True)
class EvaluationPeriod:
    """``number`` is the month (1-12) of a month, the half (1-2) of a half year, 0 for a year."""

    year: int
    kind: PeriodKind
    number: int = 0

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range")
        allowed = {PeriodKind.MONTH: range(1, 13), PeriodKind.HALF_YEAR: range(1, 3), PeriodKind.YEAR: range(1)}
        if self.number not in allowed[self.kind]:
            raise ValueError(f"{self.number} is not a valid number for a {self.kind.value.replace('_', ' ')}")

    @classmethod
    def parse(cls, text: str, field: str = "period") -> EvaluationPeriod:
        """"2026-03" (a month), "2026-H1" (a half year) or "2026" (a year); ``InvalidArgument`` otherwise."""
        matched = _TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
        try:
            if matched is None:
                raise ValueError("expected yyyy-MM, yyyy-H1, yyyy-H2 or yyyy")
            year, month, half = matched.groups()
            if month:
                return cls(int(year), PeriodKind.MONTH, int(month))
            if half:
                return cls(int(year), PeriodKind.HALF_YEAR, int(half))
            return cls(int(year), PeriodKind.YEAR)
        except ValueError as bad:
            raise InvalidArgument.field(field, f"{text!r} is not an evaluation period ({bad})") from None

    def months(self) -> tuple[Period, ...]:
        """The settlement months the period covers, in order."""
        if self.kind is PeriodKind.MONTH:
            return (Period(self.year, self.number),)
        first = 7 if self.kind is PeriodKind.HALF_YEAR and self.number == 2 else 1
        count = 6 if self.kind is PeriodKind.HALF_YEAR else 12
        return tuple(Period(self.year, month) for month in range(first, first + count))

    def __str__(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind is PeriodKind.HALF_YEAR:
            return f"{self.year:04d}-H{self.number}"
        return f"{self.year:04d}"
