"""Calendar dates and settlement periods: ``datetime.date`` and ``Period`` in the domain, ``google.type.Date``
on the wire (protos/README.md, "Dates and periods").

    >>> Period.parse("2026-03"), Period.parse("2026")
    (Period(year=2026, month=3), Period(year=2026, month=None))
    Period.parse("2026-03").to_proto()     -> google.type.Date(year=2026, month=3, day=0)
    date_to_proto(date(2026, 3, 31))       -> google.type.Date(year=2026, month=3, day=31)

A month is a ``google.type.Date`` with day 0; a settlement year one with month 0 and day 0. Reading from the wire
refuses partial or impossible dates with ``InvalidArgument`` naming the field.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .errors import InvalidArgument

if TYPE_CHECKING:
    from google.type import date_pb2

_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A settlement period: one calendar month (``month`` 1-12) or a whole settlement year (``month`` None)."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1-12")

    @classmethod
    def parse(cls, text: str, field: str = "period") -> Period:
        """"2026-03" (a month) or "2026" (a year); ``InvalidArgument`` naming ``field`` otherwise."""
        matched = _PERIOD.fullmatch(text.strip()) if isinstance(text, str) else None
        try:
            if matched is None:
                raise ValueError("expected yyyy-MM or yyyy")
            return cls(int(matched[1]), int(matched[2]) if matched[2] else None)
        except ValueError as bad:
            raise InvalidArgument.field(field, f"{text!r} is not a settlement period ({bad})") from None

    @property
    def is_month(self) -> bool:
        return self.month is not None

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> date:
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def months(self) -> list[Period]:
        """The months of this period, in order: itself for a month, January to December for a year."""
        return [self] if self.month is not None else [Period(self.year, m) for m in range(1, 13)]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month is not None else f"{self.year:04d}"

    def to_proto(self) -> date_pb2.Date:
        from google.type import date_pb2  # lazily: domain code using Period loads no protobuf

        return date_pb2.Date(year=self.year, month=self.month or 0, day=0)

    @classmethod
    def from_proto(cls, message: date_pb2.Date, field: str = "period", *,
                   allow_year: bool = True) -> Period:
        """A period from the wire: year and month with day 0, or (when ``allow_year``) year alone."""
        if message.day != 0:
            raise InvalidArgument.field(field, "a settlement period has day 0 (year and month, or year alone)")
        if message.month == 0 and not allow_year:
            raise InvalidArgument.field(field, "must name a month (year and month, day 0)")
        try:
            return cls(message.year, message.month or None)
        except ValueError as bad:
            raise InvalidArgument.field(field, str(bad)) from None


def date_to_proto(day: date | None) -> date_pb2.Date | None:
    """A calendar day on the wire; ``None`` (leave the field unset) for no date."""
    from google.type import date_pb2

    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day is not None else None


def date_from_proto(message: date_pb2.Date, field: str) -> date | None:
    """A full calendar day from the wire; ``None`` when unset (all zero); ``InvalidArgument`` when partial or
    impossible (a day of February 30)."""
    if message.year == message.month == message.day == 0:
        return None
    try:
        return date(message.year, message.month, message.day)
    except ValueError as bad:
        raise InvalidArgument.field(field, f"not a calendar day ({bad})") from None
