"""The inputs of a settlement: the year's cases and the base years' history, held column by column.

A million cases as a million objects would cost a gigabyte; as columns of machine integers (money in fen,
dates as day ordinals, codes interned to small indexes) they cost about 120 bytes each, and the arithmetic
loops over plain integers. Tables are filled once by their builders and not changed afterwards.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import InputError


def month_key(year: int, month: int) -> int:
    """A discharge month as one integer (``year * 12 + month - 1``): advances are computed per such month."""
    return year * 12 + month - 1


@dataclass
class CaseTable:
    """The cases of one settlement year; row ``i`` of every column is case ``i`` (in input order)."""

    case_ids: list[str] = field(default_factory=list)
    hospital_codes: list[str] = field(default_factory=list)
    group_codes: list[str] = field(default_factory=list)
    hospital: array[int] = field(default_factory=lambda: array("l"))
    level: array[int] = field(default_factory=lambda: array("b"))
    person: array[int] = field(default_factory=lambda: array("l"))
    group: array[int] = field(default_factory=lambda: array("l"))
    adm_day: array[int] = field(default_factory=lambda: array("l"))
    dscg_day: array[int] = field(default_factory=lambda: array("l"))
    month: array[int] = field(default_factory=lambda: array("l"))
    total_cost: array[int] = field(default_factory=lambda: array("q"))
    fund_paid: array[int] = field(default_factory=lambda: array("q"))
    personal_paid: array[int] = field(default_factory=lambda: array("q"))
    lines: array[int] = field(default_factory=lambda: array("l"))
    """Where each case came from (1-based line of its file, or position in the feed), for error messages."""

    def __len__(self) -> int:
        return len(self.case_ids)

    def check(self, source: str) -> None:
        """FORMAT's table-wide checks: no ``dscg_date`` before ``adm_date``, no duplicate ``case_id``."""
        if any(map(int.__lt__, self.dscg_day, self.adm_day)):
            i = next(i for i in range(len(self)) if self.dscg_day[i] < self.adm_day[i])
            raise InputError(source, self.lines[i], "dscg_date", "discharge is before admission (adm_date)")
        if len(set(self.case_ids)) != len(self.case_ids):
            seen: set[str] = set()
            for i, case_id in enumerate(self.case_ids):
                if case_id in seen:
                    raise InputError(source, self.lines[i], "case_id", f"duplicate case_id {case_id!r}")
                seen.add(case_id)

    def levels_used(self) -> list[str]:
        return sorted({str(level) for level in set(self.level)})


class CaseTableBuilder:
    """Appends cases, interning codes and refusing a duplicate ``case_id`` (``source``/line name the record)."""

    def __init__(self, source: str = "cases") -> None:
        self.table = CaseTable()
        self.source = source
        self._seen: set[str] = set()
        self._hospitals: dict[str, int] = {}
        self._groups: dict[str, int] = {}
        self._persons: dict[str, int] = {}

    def add(self, line: int, *, case_id: str, hospital: str, level: int, psn_no: str, group: str, adm_day: int,
            dscg_day: int, dscg_month: int, total_cost: int, fund_paid: int, personal_paid: int) -> None:
        """One case; dates as ``date.toordinal()`` values, the discharge month as :func:`month_key`, money in fen."""
        if dscg_day < adm_day:
            raise InputError(self.source, line, "dscg_date", "discharge is before admission (adm_date)")
        if case_id in self._seen:
            raise InputError(self.source, line, "case_id", f"duplicate case_id {case_id!r}")
        self._seen.add(case_id)
        t = self.table
        t.case_ids.append(case_id)
        t.hospital.append(_intern(self._hospitals, t.hospital_codes, hospital))
        t.group.append(_intern(self._groups, t.group_codes, group))
        person = self._persons.get(psn_no)
        if person is None:
            person = self._persons[psn_no] = len(self._persons)
        t.person.append(person)
        t.level.append(level)
        t.adm_day.append(adm_day)
        t.dscg_day.append(dscg_day)
        t.month.append(dscg_month)
        t.total_cost.append(total_cost)
        t.fund_paid.append(fund_paid)
        t.personal_paid.append(personal_paid)
        t.lines.append(line)

    def build(self) -> CaseTable:
        self._seen.clear()
        self._persons.clear()
        return self.table


def _intern(index: dict[str, int], codes: list[str], code: str) -> int:
    found = index.get(code)
    if found is None:
        found = index[code] = len(codes)
        codes.append(code)
    return found


@dataclass
class History:
    """Base-year costs in fen, bucketed by (group, discharge year, level): all that the weights read."""

    buckets: dict[tuple[str, int, int], array[int]] = field(default_factory=dict)

    def add(self, group: str, year: int, level: int, cost: int) -> None:
        bucket = self.buckets.get((group, year, level))
        if bucket is None:
            bucket = self.buckets[(group, year, level)] = array("q")
        bucket.append(cost)

    def __len__(self) -> int:
        return sum(len(b) for b in self.buckets.values())

    def cells(self) -> Iterator[tuple[str, int, dict[int, array[int]]]]:
        """Each (group, year) with its costs by level."""
        cells: dict[tuple[str, int], dict[int, array[int]]] = {}
        for (group, year, level), costs in self.buckets.items():
            cells.setdefault((group, year), {})[level] = costs
        for (group, year), by_level in cells.items():
            yield group, year, by_level
