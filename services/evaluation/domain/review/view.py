"""A stay as the stay-scope rules read it: indexes over its fee details, each built once, on first use.

Most stays break no rule, so the rules first ask cheap questions answered in C over the whole stay (the set of its
item codes, its lines as columns) and walk the lines one by one only when the answer says a hit is possible.
"""

from __future__ import annotations

from collections.abc import Container
from functools import cached_property

from .model import FeeLine, Stay


class StayView:
    """Read-only: the stay itself is immutable; the indexes are derived from it and cached here."""

    def __init__(self, stay: Stay, known: Container[str] = frozenset()) -> None:
        self.stay = stay
        self._known = known
        self._days: dict[str, dict[str, int]] = {}

    @cached_property
    def codes(self) -> frozenset[str]:
        """The item codes charged in the stay (refund lines included)."""
        return frozenset(self.columns[1])

    @cached_property
    def columns(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...],
                               tuple[int, ...], tuple[int, ...]]:
        """The lines as columns, in line order: (sn, code, category, time, cnt, pric, amount); empty columns for a
        stay without lines."""
        details = self.stay.details
        if not details:
            return (), (), (), (), (), (), ()
        sn, code, category, time, cnt, pric, amount, *_ = zip(*details, strict=True)
        return sn, code, category, time, cnt, pric, amount

    @cached_property
    def by_code(self) -> dict[str, list[FeeLine]]:
        """The lines of the codes in ``known`` (the knowledge library's items and the codes their exclusive pairs
        name), by code, in the order sent: the items that have limits are the only ones looked at item by item."""
        out: dict[str, list[FeeLine]] = {}
        known = self._known
        for line in self.stay.details:
            if line.code in known:
                bucket = out.get(line.code)
                if bucket is None:
                    out[line.code] = [line]
                else:
                    bucket.append(line)
        return out

    def day_counts(self, code: str) -> dict[str, int]:
        """Net quantity (millionths) of one item per calendar day of ``fee_ocur_time`` (refunds subtract)."""
        counts = self._days.get(code)
        if counts is None:
            counts = self._days[code] = {}
            get = counts.get
            for line in self.by_code.get(code, ()):
                day = line.time[:10]
                counts[day] = get(day, 0) + line.cnt
        return counts

    def day_lines(self, code: str, day: str) -> list[FeeLine]:
        """The lines of one item on one day."""
        return [line for line in self.by_code.get(code, ()) if line.time[:10] == day]
