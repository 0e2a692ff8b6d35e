"""The batch review: lists, fee details and a knowledge library from files, flags to a file, in-process.

Order of work, so that memory holds stays but never all fee details:
1. settlement records (``--records``), then lists: one ``Stay`` per (institution, setl_id), a later line being a
   revision; grouped when a rule needs the DRG;
2. fee details, streamed: a stay's stay-scope rules run as soon as its 2301 request is read. A stay whose details
   come in several requests (or are revoked by a 2302) is reviewed again at the end from all its requests, read
   back by their file offsets;
3. person- and population-scope rules over all stays; flags written in list order.
"""

from __future__ import annotations

import gzip
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import count
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

import msgspec
import orjson

from libs.national.fees import FeeLine, RawDetail, RawInput, RawRequest, decode_request, read_detail
from services.grouping.domain.case import GroupStatus
from services.grouping.domain.engine import group_case
from services.grouping.domain.scheme import Scheme

from ...adapters.review.national import ListFormatError, Record, read_list, read_record, record_key
from ...domain.review.engine import Reviewer
from ...domain.review.model import Flag, Group, Stay

StayKey = tuple[str, str]  # (fixmedins_code, setl_id)
DetailKey = tuple[str, str]  # (fixmedins_code, mdtrt_id)
PROBLEMS_KEPT = 20


@dataclass
class BatchReport:
    """What a batch did, for the operator: counts, problems (first few, with file and line), flags by category."""

    lists: int = 0
    stays: int = 0
    stays_with_details: int = 0
    detail_lines: int = 0
    records: int = 0
    lists_without_record: int = 0
    details_without_list: int = 0
    grouped: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    flagged_stays: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    seconds: float = 0.0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(text)


_MDTRT = itemgetter(7)  # FeeLine.mdtrt_id
ALL = "0000"
"""A 2302 with this feedetl_sn (or none) revokes all of the stay's details."""


class _Part(NamedTuple):
    """What one request says about one stay: lines (2301) or a revocation (``revoke``: a feedetl_sn or ``ALL``)."""

    key: DetailKey
    lines: list[FeeLine]
    problems: list[str]
    revoke: str | None


@dataclass
class _Details:
    """The fee-detail requests of one stay: file offsets, and the stay-scope flags of the first review."""

    offsets: list[int]
    flags: list[Flag]


def _str(value: Any) -> str:
    return value.strip() if type(value) is str else "" if value is None else str(value)


def open_lines(path: Path) -> IO[bytes]:
    """A JSON-lines file, gzip-compressed or not (by content, not name)."""
    handle = path.open("rb")
    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        handle.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return handle


class BatchReview:
    def __init__(self, reviewer: Reviewer, scheme: Scheme | None = None,
                 progress: Callable[[str, int], None] | None = None, levels: Mapping[str, int] | None = None) -> None:
        """``levels``: each institution's level (1-3), which peer comparisons compare hospitals within."""
        self.reviewer = reviewer
        self.levels = levels or {}
        self.scheme = scheme if reviewer.needs_groups else None
        self.progress = progress or (lambda stage, n: None)
        self.report = BatchReport()
        self._stays: dict[StayKey, Stay] = {}
        self._by_mdtrt: dict[DetailKey, StayKey] = {}
        self._details: dict[DetailKey, _Details] = {}

    def run(self, lists: Path, fee_details: Path | None, out: Path, records: Path | None = None) -> BatchReport:
        started = time.perf_counter()
        known = self._records(records) if records else {}
        self._lists(lists, known)
        if fee_details:
            self._fee_details(fee_details)
        flags = self._flags()
        self._write(flags, out)
        self.report.seconds = time.perf_counter() - started
        return self.report

    # 1. records and lists ---------------------------------------------------------------------------------------
    def _records(self, path: Path) -> dict[StayKey, Record]:
        known: dict[StayKey, Record] = {}
        for number, obj in self._objects(path):
            infno, hospital, setl_id = record_key(obj)
            if infno == "2305":
                known.pop((hospital, setl_id), None)
            elif infno == "2304" and hospital and setl_id:
                known[(hospital, setl_id)] = read_record(obj)
                self.report.records += 1
            else:
                self.report.problem(f"{path.name} line {number}: not a 2304 record or 2305 reversal with "
                                    "fixmedins_code and setlinfo.setl_id")
        return known

    def _lists(self, path: Path, records: Mapping[StayKey, Record]) -> None:
        group = self._group
        for number, obj in self._objects(path):
            hospital = str(obj.get("fixmedins_code") or "")
            setl_id = str((obj.get("input") or {}).get("setlinfo", {}).get("setl_id") or "") \
                if isinstance(obj.get("input"), Mapping) else ""
            record = records.get((hospital, setl_id))
            try:
                reading = read_list(obj, record)
            except ListFormatError as bad:
                self.report.problem(f"{path.name} line {number}: {bad}")
                continue
            stay = reading.stay
            if record is None and stay.sex is None and records:
                self.report.lists_without_record += 1
            level = self.levels.get(stay.fixmedins_code, 0)
            if self.scheme is not None:
                g = group(reading.case)
                if g is not None:
                    stay = stay.with_group(g, level)
                    self.report.grouped += 1
            key = (stay.fixmedins_code, stay.setl_id)
            self._stays.pop(key, None)  # a revision replaces the earlier list and takes its place in the order
            self._stays[key] = stay
            if stay.mdtrt_id:
                self._by_mdtrt[(stay.fixmedins_code, stay.mdtrt_id)] = key
            self.report.lists += 1
            if number % 10_000 == 0:
                self.progress("lists", number)
        self.report.stays = len(self._stays)

    def _group(self, case: Any) -> Group | None:
        assert self.scheme is not None
        if not case.dx:
            return None
        result = group_case(self.scheme, case)
        return Group(result.drg, result.adrg, result.mdc) if result.status is GroupStatus.GROUPED else None

    # 2. fee details ---------------------------------------------------------------------------------------------
    def _fee_details(self, path: Path) -> None:
        with open_lines(path) as handle:
            offset = 0
            for number, raw in enumerate(handle, start=1):
                here, offset = offset, offset + len(raw)
                if raw.isspace():  # (not ``strip()``: it copies a request of tens of kilobytes)
                    continue
                for part in self._parts(raw, path, number):
                    self.report.detail_lines += len(part.lines)
                    self._receive(part, here)
                if number % 10_000 == 0:
                    self.progress("fee details", number)
            self._rereview(handle, path)

    def _parts(self, raw: bytes, path: Path, number: int) -> list[_Part]:
        """A request's parts, one per stay: a 2301's lines (and unreadable lines), or a 2302 revocation."""
        request, bad_entries = self._decode(raw, path, number)
        if request is None:
            return []
        hospital = _str(request.fixmedins_code)
        body = request.input
        infno = _str(request.infno) or "2301"
        if infno == "2302":
            data = body.data if body is not None else None
            mdtrt = _str(data.get("mdtrt_id")) if data else ""
            if hospital and mdtrt and data:
                sn = _str(data.get("feedetl_sn"))
                return [_Part((hospital, mdtrt), [], [], ALL if sn in ("", ALL) else sn)]
            self.report.problem(f"{path.name} line {number}: a 2302 needs fixmedins_code and input.data.mdtrt_id")
            return []
        entries = body.feedetail if body is not None else None
        if infno != "2301" or not hospital or entries is None:
            self.report.problem(f"{path.name} line {number}: not a 2301 request with fixmedins_code and "
                                "input.feedetail[]")
            return []
        lines = list(map(read_detail, entries, count()))
        if lines and not bad_entries and str not in set(map(type, lines)):  # every entry read (nearly always)
            stays = list(map(_MDTRT, lines))
            if stays.count(stays[0]) == len(stays):  # and all of one stay: the common request, without a loop
                return [_Part((hospital, stays[0]), lines, [], None)]  # type: ignore[arg-type]
        by_stay: dict[str, _Part] = {}
        part = None
        for entry, line in zip(entries, lines, strict=True):
            mdtrt = _str(entry.mdtrt_id) if type(line) is str else line.mdtrt_id  # type: ignore[union-attr]
            if part is None or part.key[1] != mdtrt:
                part = by_stay.get(mdtrt)
                if part is None:
                    part = by_stay[mdtrt] = _Part((hospital, mdtrt), [], [], None)
            if type(line) is str:
                part.problems.append(line)
            else:
                part.lines.append(line)  # type: ignore[arg-type]
        if bad_entries:
            key = next(iter(by_stay)) if len(by_stay) == 1 else ""
            target = by_stay.get(key)
            if target is None:
                self.report.problem(f"{path.name} line {number}: {len(bad_entries)} unreadable feedetail entries "
                                    f"(no stay to attach them to): {bad_entries[0]}")
            else:
                target.problems.extend(bad_entries)
        return list(by_stay.values())

    def _decode(self, raw: bytes, path: Path, number: int) -> tuple[RawRequest | None, list[str]]:
        """The request, decoded strictly (fast); where a node has the wrong type, read leniently entry by entry so
        that one bad entry costs that entry, not the stay."""
        try:
            return decode_request(raw), []
        except ValueError as strict:
            obj = self._parse(raw, path, number)
            if obj is None:
                return None, []
            body = obj.get("input")
            entries = body.get("feedetail") if isinstance(body, Mapping) else None
            if not isinstance(entries, list):
                self.report.problem(f"{path.name} line {number}: {strict}")
                return None, []
            good, bad = [], []
            for i, entry in enumerate(entries):
                try:
                    good.append(msgspec.convert(entry, RawDetail))
                except msgspec.ValidationError as why:
                    bad.append(f"feedetail[{i}]: {why}")
            head = {k: v for k, v in obj.items() if k in ("infno", "msgid", "fixmedins_code")
                    and not isinstance(v, (dict, list))}
            return RawRequest(**head, input=RawInput(feedetail=good)), bad

    def _receive(self, part: _Part, offset: int) -> None:
        seen = self._details.get(part.key)
        if seen is not None:
            if seen.offsets[-1] != offset:
                seen.offsets.append(offset)
            return  # reviewed again at the end, from all its requests
        if part.revoke is not None:
            flags = self._review_details(part.key, [], [], uploaded=False)
        else:
            flags = self._review_details(part.key, part.lines, part.problems)
        self._details[part.key] = _Details([offset], flags)

    def _review_details(self, key: DetailKey, lines: list[FeeLine], problems: list[str], *,
                        uploaded: bool = True) -> list[Flag]:
        stay_key = self._by_mdtrt.get(key)
        if stay_key is None:
            self.report.details_without_list += 1
            self.report.problem(f"fee details of {key[0]} mdtrt_id {key[1]!r} have no settlement list")
            return []
        stay = self._stays[stay_key].with_details(tuple(lines), tuple(problems), uploaded)
        return self.reviewer.check_stay(stay)

    def _rereview(self, handle: IO[bytes], path: Path) -> None:
        """Stays with more than one request: all their lines in file order, less what a 2302 revoked."""
        for key, seen in self._details.items():
            if len(seen.offsets) < 2 or key not in self._by_mdtrt:
                continue
            lines: list[FeeLine] = []
            problems: list[str] = []
            uploaded = False
            for offset in seen.offsets:
                handle.seek(offset)
                for part in self._parts(handle.readline(), path, 0):
                    if part.key != key:
                        continue
                    if part.revoke == ALL:
                        lines, problems = [], []
                    elif part.revoke is not None:
                        lines = [line for line in lines if line.sn != part.revoke]
                    else:
                        lines += part.lines
                        problems += part.problems
                        uploaded = True
            seen.flags = self._review_details(key, lines, problems, uploaded=uploaded and bool(lines or problems))

    # 3. the whole review ----------------------------------------------------------------------------------------
    def _flags(self) -> list[Flag]:
        by_stay: dict[StayKey, list[Flag]] = {}
        reviewed: set[StayKey] = set()
        for key, seen in self._details.items():
            stay_key = self._by_mdtrt.get(key)
            if stay_key is not None:
                reviewed.add(stay_key)
                by_stay.setdefault(stay_key, []).extend(seen.flags)
        self.report.stays_with_details = len(reviewed)
        stays = list(self._stays.values())
        for stay in stays:
            key = (stay.fixmedins_code, stay.setl_id)
            if key not in reviewed:
                by_stay.setdefault(key, []).extend(self.reviewer.check_stay(stay))
        for flag in (*self.reviewer.check_people(stays), *self.reviewer.check_population(stays)):
            by_stay.setdefault((flag.fixmedins_code, flag.setl_id), []).append(flag)
        order = {rule.id: i for i, rule in enumerate(self.reviewer.ruleset.rules)}
        out: list[Flag] = []
        for key in self._stays:
            flags = by_stay.get(key)
            if flags:
                flags.sort(key=lambda f: order.get(f.rule_id, 0))
                out.extend(flags)
                self.report.flagged_stays += 1
        self.report.flags.update(f.category.value for f in out)
        return out

    def _write(self, flags: list[Flag], out: Path) -> None:
        dumps = orjson.dumps
        with out.open("wb") as handle:
            handle.writelines(dumps(flag.contract_line()) + b"\n" for flag in flags)

    # reading ----------------------------------------------------------------------------------------------------
    def _objects(self, path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
        with open_lines(path) as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.isspace():
                    obj = self._parse(raw, path, number)
                    if obj is not None:
                        yield number, obj

    def _parse(self, raw: bytes, path: Path, number: int) -> Mapping[str, Any] | None:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as bad:
            self.report.problem(f"{path.name} line {number}: not JSON ({bad})")
            return None
        if not isinstance(obj, Mapping):
            self.report.problem(f"{path.name} line {number}: not a JSON object")
            return None
        return obj
