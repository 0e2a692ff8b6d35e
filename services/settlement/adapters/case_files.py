"""``cases.jsonl`` and ``history.jsonl`` into the column tables of :mod:`..domain.cases`.

Files are read in chunks of 64 KiB. Each chunk is first tried column by column: one ``orjson`` call
for all its lines, the fields pulled out with ``itemgetter``, every column checked and converted at C speed
(one regular expression over a column's money strings, ``map(int, ...)`` for the fen). Anything unusual in a
chunk (a line that is not an object, a missing or mistyped field, a bad amount or date) sends the whole chunk
through :class:`LineChecks`, line by line, which raises the precise error with its file, line and field.
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from ..domain.cases import CaseTable, History, month_key
from ..domain.errors import InputError
from ..domain.policy import Policy

LEVEL_VALUES: dict[Any, int] = {1: 1, 2: 2, 3: 3, "1": 1, "2": 2, "3": 3}
LineProgress = Callable[[int], None]
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = r"[0-9]+(?:\.[0-9]{1,2})?"
_AMOUNTS = re.compile(rf"(?:{_AMOUNT}\n)*")
"""A column of amounts joined by (and ending with) line breaks."""
_CENTS_COLUMN = re.compile(r"(?:[0-9]+\.[0-9]{2}\n)*")
"""The usual column: every amount with exactly two decimals."""
_WHOLE_YUAN = re.compile(r"^([0-9]+)$", re.MULTILINE)
_TEN_FEN = re.compile(r"\.([0-9])$", re.MULTILINE)
_CHUNK_BYTES = 1 << 16
"""About 300 lines: one ``orjson`` call per chunk, while the parsed objects still sit in the CPU caches."""
CASE_FIELDS = ("case_id", "hospital", "level", "psn_no", "adm_date", "dscg_date", "group", "total_cost",
               "fund_paid", "personal_paid")
HISTORY_FIELDS = ("group", "level", "dscg_date", "total_cost")
MAX_FEN = 2**63 - 1
"""The largest amount a money column holds (a 64-bit count of fen: about 92 thousand trillion yuan)."""


class _Unusual(Exception):
    """The column-wise path cannot vouch for a chunk; the line-by-line checks decide."""


def fen(value: Any) -> int | None:
    """A FORMAT money string (``^[0-9]+(.[0-9]{1,2})?$``, ASCII digits) in fen; ``None`` for anything else."""
    if value.__class__ is not str or not value.isascii():
        return None
    whole, dot, cents = value.partition(".")
    if not whole.isdigit():
        return None
    if not dot:
        return int(whole) * 100
    if not 0 < len(cents) <= 2 or not cents.isdigit():
        return None
    return int(whole) * 100 + (int(cents) * 10 if len(cents) == 1 else int(cents))


class Dates:
    """``YYYY-MM-DD`` -> (day ordinal, year, month key), each distinct date checked once."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[int, int, int]] = {}

    def add(self, value: Any) -> tuple[int, int, int] | None:
        """The date's numbers, or ``None`` when it is not a valid ``YYYY-MM-DD`` date."""
        try:
            if value.__class__ is not str or not _DATE.fullmatch(value):
                return None
            day = date.fromisoformat(value)
        except ValueError:
            return None
        known = self.known[value] = (day.toordinal(), day.year, month_key(day.year, day.month))
        return known

    def column(self, values: tuple[Any, ...]) -> list[tuple[int, int, int]]:
        try:
            unseen = set(values).difference(self.known)
        except TypeError:  # an unhashable value: a list or an object
            raise _Unusual from None
        if any(self.add(v) is None for v in unseen):
            raise _Unusual
        return list(map(self.known.__getitem__, values))


class LineChecks:
    """Field checks of one input file, line by line; each failure names the file, line and field."""

    def __init__(self, label: str, dates: Dates) -> None:
        self.label = label
        self.dates = dates

    def fail(self, line: int, field: str, problem: str) -> InputError:
        return InputError(self.label, line, field, problem)

    def row(self, raw: bytes, line: int) -> dict[str, Any] | None:
        """The JSON object of a line; ``None`` for a blank line."""
        try:
            row = orjson.loads(raw)
        except orjson.JSONDecodeError as bad:
            if not raw.strip():
                return None
            raise self.fail(line, "", f"not a JSON object ({bad})") from None
        if not isinstance(row, dict):
            raise self.fail(line, "", "not a JSON object")
        return row

    def value(self, row: dict[str, Any], line: int, field: str) -> Any:
        value = row.get(field)
        if value is None:
            raise self.fail(line, field, "missing")
        return value

    def text(self, row: dict[str, Any], line: int, field: str) -> str:
        value = self.value(row, line, field)
        if not isinstance(value, str):
            raise self.fail(line, field, f"must be a string, not {value!r}")
        return value

    def money(self, row: dict[str, Any], line: int, field: str) -> int:
        amount = fen(self.value(row, line, field))
        if amount is None:
            raise self.fail(line, field, f"{row[field]!r} is not a money string (digits, at most 2 decimals)")
        if amount > MAX_FEN:
            raise self.fail(line, field, f"{row[field]!r} is more than the largest amount settlement holds "
                            f"({MAX_FEN // 100:,}.{MAX_FEN % 100:02d})")
        return amount

    def date(self, row: dict[str, Any], line: int, field: str) -> tuple[int, int, int]:
        known = self.dates.add(self.value(row, line, field))
        if known is None:
            raise self.fail(line, field, f"{row[field]!r} is not a date YYYY-MM-DD")
        return known

    def level(self, row: dict[str, Any], line: int, levels: dict[Any, int]) -> int:
        value = self.value(row, line, "level")
        level = LEVEL_VALUES.get(value) if type(value) in (int, str) else None
        if level is None:
            raise self.fail(line, "level", f"{value!r} is not a level 1, 2 or 3")
        if level not in levels.values():
            raise self.fail(line, "level", f"level {level} has no entry in the parameters' levels")
        return level

    def case(self, row: dict[str, Any], n: int, levels: dict[Any, int]) -> tuple[Any, ...]:
        """Every field of a case, checked in the order of FORMAT's table."""
        return (self.text(row, n, "case_id"), self.text(row, n, "hospital"), self.level(row, n, levels),
                self.text(row, n, "psn_no"), self.date(row, n, "adm_date"), self.date(row, n, "dscg_date"),
                self.text(row, n, "group"), self.money(row, n, "total_cost"), self.money(row, n, "fund_paid"),
                self.money(row, n, "personal_paid"))

    def history(self, row: dict[str, Any], n: int) -> tuple[Any, ...]:
        return (self.text(row, n, "group"), self.level(row, n, LEVEL_VALUES), self.date(row, n, "dscg_date"),
                self.money(row, n, "total_cost"))


def _chunks(path: Path, progress: LineProgress | None) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) of about ``_CHUNK_BYTES`` at a time."""
    first = 1
    with path.open("rb") as f:
        while lines := f.readlines(_CHUNK_BYTES):
            if progress is not None:
                progress(first - 1)
            yield first, lines
            first += len(lines)


def _columns(lines: list[bytes], fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The chunk's values column by column (one tuple per field), or :class:`_Unusual`.

    A blank line makes the joined text invalid JSON, so chunks with blank lines take the line-by-line path."""
    try:
        rows = orjson.loads(b"[" + b",".join(lines) + b"]")
        if len(rows) != len(lines):  # a line holding "1, 2" parses as two values
            raise _Unusual
        return [tuple(map(itemgetter(field), rows)) for field in fields]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise _Unusual from None


def _texts(column: tuple[Any, ...]) -> tuple[str, ...]:
    if column and set(map(type, column)) != {str}:
        raise _Unusual
    return column


def _levels(column: tuple[Any, ...], levels: dict[Any, int]) -> array[int]:
    if not set(map(type, column)) <= {int, str}:  # no booleans (True == 1), floats or nulls
        raise _Unusual
    try:
        return array("b", map(levels.__getitem__, column))
    except KeyError:
        raise _Unusual from None


def _fen(column: tuple[Any, ...]) -> array[int]:
    """A column of money strings in fen: checked by one regular expression over the joined column, then
    written with two decimals everywhere ("80" -> "80.00", "1.5" -> "1.50") and read as integers without the
    point."""
    if not column:
        return array("q")
    try:
        text = "\n".join(column) + "\n"
    except TypeError:
        raise _Unusual from None
    if text.count("\n") != len(column):
        raise _Unusual
    if not _CENTS_COLUMN.fullmatch(text):
        if not _AMOUNTS.fullmatch(text):
            raise _Unusual
        text = _TEN_FEN.sub(r".\g<1>0", _WHOLE_YUAN.sub(r"\g<1>.00", text))
    try:
        return array("q", map(int, text.replace(".", "").split("\n")[:-1]))
    except OverflowError:  # an amount beyond MAX_FEN: the line-by-line checks name it
        raise _Unusual from None


class _Interned(dict[str, int]):
    """Code -> index, the codes listed in order of first appearance."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__()
        self.codes = codes

    def __missing__(self, code: str) -> int:
        index = self[code] = len(self.codes)
        self.codes.append(code)
        return index


class _CaseColumns:
    """Appends checked chunks of cases to a :class:`CaseTable`."""

    def __init__(self, policy: Policy, label: str) -> None:
        self.table = CaseTable()
        self.levels = {key: level for key, level in LEVEL_VALUES.items() if str(level) in policy.levels}
        self.dates = Dates()
        self.checks = LineChecks(label, self.dates)
        self.hospitals, self.groups = _Interned(self.table.hospital_codes), _Interned(self.table.group_codes)
        self.persons = _Interned([])

    def chunk(self, first: int, lines: list[bytes]) -> None:
        try:
            self._fast(first, lines)
        except _Unusual:
            self._line_by_line(first, lines)

    def _fast(self, first: int, lines: list[bytes]) -> None:
        (ids, hospitals, levels, persons, adm, dscg, groups, cost, fund, personal) = _columns(lines, CASE_FIELDS)
        for column in (ids, hospitals, persons, groups):
            _texts(column)
        adm_days, dscg_days = self.dates.column(adm), self.dates.column(dscg)
        values = (_levels(levels, self.levels), _fen(cost), _fen(fund), _fen(personal))
        t = self.table
        t.case_ids.extend(ids)
        t.hospital.extend(map(self.hospitals.__getitem__, hospitals))
        t.person.extend(map(self.persons.__getitem__, persons))
        t.group.extend(map(self.groups.__getitem__, groups))
        t.level.extend(values[0])
        t.adm_day.extend(map(itemgetter(0), adm_days))
        t.dscg_day.extend(map(itemgetter(0), dscg_days))
        t.month.extend(map(itemgetter(2), dscg_days))
        t.total_cost.extend(values[1])
        t.fund_paid.extend(values[2])
        t.personal_paid.extend(values[3])
        t.lines.extend(range(first, first + len(lines)))

    def _line_by_line(self, first: int, lines: list[bytes]) -> None:
        t = self.table
        for n, raw in enumerate(lines, start=first):
            row = self.checks.row(raw, n)
            if row is None:
                continue
            case_id, hospital, level, psn_no, adm, dscg, group, cost, fund, personal = self.checks.case(
                row, n, self.levels)
            t.case_ids.append(case_id)
            t.hospital.append(self.hospitals[hospital])
            t.person.append(self.persons[psn_no])
            t.group.append(self.groups[group])
            t.level.append(level)
            t.adm_day.append(adm[0])
            t.dscg_day.append(dscg[0])
            t.month.append(dscg[2])
            t.total_cost.append(cost)
            t.fund_paid.append(fund)
            t.personal_paid.append(personal)
            t.lines.append(n)


def read_cases(path: Path, policy: Policy, label: str | None = None,
               progress: LineProgress | None = None) -> CaseTable:
    """``cases.jsonl``: every field of FORMAT's table, checked; ``label`` names the file in errors."""
    columns = _CaseColumns(policy, label or str(path))
    for first, lines in _chunks(path, progress):
        columns.chunk(first, lines)
    columns.table.check(columns.checks.label)
    return columns.table


class _HistoryColumns:
    def __init__(self, label: str) -> None:
        self.buckets: defaultdict[tuple[str, int, int], array[int]] = defaultdict(lambda: array("q"))
        self.dates = Dates()
        self.checks = LineChecks(label, self.dates)

    def chunk(self, first: int, lines: list[bytes]) -> None:
        rows: Iterator[tuple[tuple[str, int, int], int]]
        try:
            groups, levels, dscg, cost = _columns(lines, HISTORY_FIELDS)
            years = map(itemgetter(1), self.dates.column(dscg))
            rows = zip(zip(_texts(groups), years, _levels(levels, LEVEL_VALUES), strict=True), _fen(cost),
                       strict=True)
        except _Unusual:
            rows = self._line_by_line(first, lines)
        buckets = self.buckets
        for key, amount in rows:
            buckets[key].append(amount)

    def _line_by_line(self, first: int, lines: list[bytes]) -> Iterator[tuple[tuple[str, int, int], int]]:
        checked = []
        for n, raw in enumerate(lines, start=first):
            row = self.checks.row(raw, n)
            if row is not None:
                group, level, day, cost = self.checks.history(row, n)
                checked.append(((group, day[1], level), cost))
        return iter(checked)


def read_history(path: Path, label: str | None = None, progress: LineProgress | None = None) -> History:
    """``history.jsonl``: only ``group``, ``level``, ``dscg_date`` and ``total_cost`` are read (and required)."""
    columns = _HistoryColumns(label or str(path))
    for first, lines in _chunks(path, progress):
        columns.chunk(first, lines)
    return History(dict(columns.buckets))
