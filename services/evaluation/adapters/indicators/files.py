"""INDICATORS.md's files: cases (JSON lines), ``weights.csv`` in, ``indicators.csv`` out.

Reading is column-wise per chunk of lines (one parse per line, then one pass per field), so a million cases
load in seconds; a bad line is found after the fact and reported with its file, line and field.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from ...domain.indicators.compute import UnitIndicators
from ...domain.indicators.table import CaseTable, CaseTableBuilder, CaseValueError
from .arrow_cases import read_cases_fast

CHUNK_BYTES = 16 << 20
TEXT_FIELDS = ("case_id", "hospital", "dept", "doctor", "psn_no", "group", "adm_date", "dscg_date", "total_cost",
               "dscg_way")
FIELDS = (*TEXT_FIELDS, "los")
_FIELD_VALUES = itemgetter(*FIELDS)
DISCHARGE_WAYS = frozenset({"1", "2", "3", "4", "5", "9"})
DIED = "5"
MAX_LOS = 36_500
"""A hundred years: a longer stay is a typing error (and would not fit the arithmetic's integers)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONEY = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")
_MONEY_COLUMN = re.compile(r"[0-9]{1,10}\.[0-9]{2}(?:\n[0-9]{1,10}\.[0-9]{2})*")
"""The common case, checked for a whole chunk at once: every amount with exactly two decimals."""
_WEIGHT = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,4})?")
HEADER = ("level,unit,cases,grouped,grouping_rate,drg_count,total_weight,cmi,time_index,cost_index,"
          "low_risk_cases,low_risk_deaths,low_risk_mortality,readmit15_rate")


class InputFileError(ValueError):
    """A bad input file: the message names the file and, where there is one, the line."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def read_cases(path: Path, chunk_bytes: int = CHUNK_BYTES) -> CaseTable:
    """The cases of a JSON-lines file (``.gz`` read transparently); blank lines are skipped.

    A plainly good file is read by Arrow's JSON reader; any other file line by line, which accepts exactly the
    same files and names the file, line and field of the first problem.
    """
    data = _file_bytes(path)
    table = read_cases_fast(data, DISCHARGE_WAYS, DIED, MAX_LOS)
    return table if table is not None else read_cases_by_line(path, data, chunk_bytes)


def read_cases_by_line(path: Path, data: bytes, chunk_bytes: int = CHUNK_BYTES) -> CaseTable:
    """The line-by-line reader: JSON per line, then every field checked per chunk of lines."""
    builder = CaseTableBuilder()
    reader = _CaseChunks(path, data)
    stream = io.BytesIO(data)
    first_line = 1
    while lines := stream.readlines(chunk_bytes):
        reader.add(builder, lines, first_line)
        first_line += len(lines)
    if reader.count == 0:
        raise InputFileError(path, None, "no cases (the file is empty)")
    return builder.build()


class _CaseChunks:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.data = data
        self.case_ids: set[str] = set()
        self.days: dict[str, int] = {}
        self.count = 0

    def add(self, builder: CaseTableBuilder, lines: list[bytes], first_line: int) -> None:
        objects, numbers = self._parse(lines, first_line)
        if not objects:
            return
        columns = self._columns(objects, numbers)
        self._check_ids(columns["case_id"], numbers)
        adm, dscg = self._days("adm_date", columns, numbers), self._days("dscg_date", columns, numbers)
        try:
            builder.add(hospital=columns["hospital"], dept=columns["dept"], doctor=columns["doctor"],
                        group=columns["group"], person=columns["psn_no"], adm_day=adm, dscg_day=dscg,
                        los=columns["los"], cost_fen=self._fen(columns["total_cost"], numbers),
                        died=list(map(DIED.__eq__, columns["dscg_way"])))
        except CaseValueError as bad:
            raise InputFileError(self.path, numbers[bad.row], f"field {bad.field!r} {bad.problem}") from None
        self.case_ids.update(columns["case_id"])
        self.count += len(numbers)

    def _parse(self, lines: list[bytes], first_line: int) -> tuple[list[Any], Sequence[int]]:
        """The JSON value of every non-blank line, and the line numbers they came from."""
        try:
            return list(map(orjson.loads, lines)), range(first_line, first_line + len(lines))
        except orjson.JSONDecodeError:
            pass  # a blank line, or a bad one: line by line
        objects, numbers = [], []
        for number, line in enumerate(lines, start=first_line):
            if not line.strip():
                continue
            try:
                objects.append(orjson.loads(line))
            except orjson.JSONDecodeError as bad:
                raise InputFileError(self.path, number, f"not valid JSON ({bad})") from None
            numbers.append(number)
        return objects, numbers

    def _columns(self, objects: list[Any], numbers: Sequence[int]) -> dict[str, list[Any]]:
        try:
            rows = list(map(_FIELD_VALUES, objects))
        except (KeyError, TypeError):
            for obj, number in zip(objects, numbers, strict=True):
                if not isinstance(obj, dict):
                    raise InputFileError(self.path, number, "a case must be a JSON object") from None
                missing = [field for field in FIELDS if field not in obj]
                if missing:
                    raise InputFileError(self.path, number, f"missing field {missing[0]!r}") from None
            raise
        columns = dict(zip(FIELDS, map(list, zip(*rows, strict=True)), strict=True))
        for field in TEXT_FIELDS:
            self._require(columns[field], numbers, field, all_good=set(map(type, columns[field])) <= {str},
                          good=lambda v: type(v) is str, rule="must be a string")
        los = columns["los"]
        self._require(los, numbers, "los", all_good=set(map(type, los)) <= {int} and max(los) <= MAX_LOS,
                      good=lambda v: type(v) is int and v <= MAX_LOS,
                      rule=f"must be an integer number of days <= {MAX_LOS}")
        ways = columns["dscg_way"]
        self._require(ways, numbers, "dscg_way", all_good=set(ways) <= DISCHARGE_WAYS,
                      good=DISCHARGE_WAYS.__contains__, rule="must be one of 1, 2, 3, 4, 5 (died) or 9")
        return columns

    def _require(self, values: list[Any], numbers: Sequence[int], field: str, *, all_good: bool,
                 good: Callable[[Any], bool], rule: str) -> None:
        """Nothing to do when the column was found good as a whole; else the first bad value is reported."""
        if all_good:
            return
        for value, number in zip(values, numbers, strict=True):
            if not good(value):
                raise InputFileError(self.path, number, f"field {field!r} {rule}, got {_shown(value)}")

    def _check_ids(self, ids: list[str], numbers: Sequence[int]) -> None:
        seen = self.case_ids
        if len(set(ids)) == len(ids) and seen.isdisjoint(ids):
            return
        here: dict[str, int] = {}
        for case_id, number in zip(ids, numbers, strict=True):
            if case_id in seen or case_id in here:
                first = here.get(case_id) or self._first_line_of(case_id)
                raise InputFileError(self.path, number, f"case_id {case_id!r} appears again (first on line {first})")
            here[case_id] = number

    def _first_line_of(self, case_id: str) -> int | None:
        """Where an earlier chunk had ``case_id`` (read again: only ever needed to report a duplicate)."""
        for number, line in enumerate(io.BytesIO(self.data), start=1):
            if line.strip() and orjson.loads(line).get("case_id") == case_id:
                return number
        return None

    def _days(self, field: str, columns: dict[str, list[Any]], numbers: Sequence[int]) -> list[int]:
        days = self.days
        for text in set(columns[field]) - days.keys():
            day = _ordinal(text)
            if day is None:
                number = numbers[columns[field].index(text)]
                raise InputFileError(self.path, number, f"field {field!r} must be a date YYYY-MM-DD, got {text!r}")
            days[text] = day
        return list(map(days.__getitem__, columns[field]))

    def _fen(self, amounts: list[str], numbers: Sequence[int]) -> list[int]:
        joined = "\n".join(amounts)
        if _MONEY_COLUMN.fullmatch(joined):
            return list(map(int, joined.replace(".", "").split("\n")))
        fen = []
        for amount, number in zip(amounts, numbers, strict=True):
            if not _MONEY.fullmatch(amount):
                raise InputFileError(self.path, number, "field 'total_cost' must be an amount of yuan with at "
                                     f"most 2 decimals, at least 0 and below 10 billion, got {amount!r}")
            whole, _, cents = amount.partition(".")
            fen.append(int(whole) * 100 + int(cents.ljust(2, "0")))
        return fen


def _ordinal(text: str) -> int | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).toordinal()
    except ValueError:
        return None


def _shown(value: Any) -> str:
    return orjson.dumps(value).decode()


def read_weights(path: Path) -> dict[str, int]:
    """``group -> rw`` in ten-thousandths from a ``weights.csv`` (only the ``group`` and ``rw`` columns)."""
    with io.TextIOWrapper(io.BytesIO(_file_bytes(path)), encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise InputFileError(path, None, "empty file: expected a header with 'group' and 'rw'") from None
        except UnicodeDecodeError as bad:
            raise InputFileError(path, 1, f"not UTF-8 ({bad.reason})") from None
        missing = [column for column in ("group", "rw") if column not in header]
        if missing:
            raise InputFileError(path, 1, f"the header has no {missing[0]!r} column")
        at_group, at_rw = header.index("group"), header.index("rw")
        weights: dict[str, int] = {}
        first_line: dict[str, int] = {}
        try:
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise InputFileError(path, line, f"{len(row)} columns, the header has {len(header)}")
                group, rw = row[at_group], row[at_rw]
                if not group:
                    raise InputFileError(path, line, "empty group")
                if group in weights:
                    raise InputFileError(path, line, f"group {group!r} appears again (first on line "
                                         f"{first_line[group]})")
                if not _WEIGHT.fullmatch(rw):
                    raise InputFileError(path, line, f"rw of {group} must be a decimal >= 0 with at most 4 "
                                         f"decimals, got {rw!r}")
                whole, _, part = rw.partition(".")
                weights[group] = int(whole) * 10_000 + int(part.ljust(4, "0"))
                first_line[group] = line
        except UnicodeDecodeError as bad:
            raise InputFileError(path, reader.line_num + 1, f"not UTF-8 ({bad.reason})") from None
    return weights


def indicators_csv(rows: Iterable[UnitIndicators]) -> Iterator[str]:
    """The lines of ``indicators.csv``, header first, each ending in ``\\n``."""
    yield HEADER + "\n"
    for r in rows:
        yield (f"{r.level.value},{r.unit},{r.cases},{r.grouped},{r.grouping_rate:f},{r.drg_count},"
               f"{r.total_weight:f},{_cell(r.cmi)},{_cell(r.time_index)},{_cell(r.cost_index)},"
               f"{r.low_risk_cases},{r.low_risk_deaths},{_cell(r.low_risk_mortality)},{r.readmit15_rate:f}\n")


def _cell(value: object) -> str:
    return "" if value is None else f"{value:f}"


def write_text_atomically(path: Path, lines: Iterable[str]) -> None:
    """Writes the file whole or not at all (a temporary file beside it, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            out.writelines(lines)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _file_bytes(path: Path) -> bytes:
    """The file's bytes, unpacked when it ends in ``.gz``."""
    if not path.is_file():
        raise InputFileError(path, None, "no such file")
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (gzip.BadGzipFile, EOFError, zlib.error) as bad:
        raise InputFileError(path, None, f"not a complete gzip file ({bad})") from None
