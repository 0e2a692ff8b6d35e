"""Input limits of a settlement list: what no real list can hold is refused, precisely and cheaply.

Two layers, both pure, both over the internal form (``dialects.normalise``):

- ``input_limits``: the shape a list may take before anything else reads it: every text within its length and
  free of control characters, numbers within their ranges, at most so many entries, properties and levels.
  A list that breaks one is refused with these findings alone: nothing downstream (code validation, grouping,
  storage) ever sees an oversized or malformed value.
- ``plausibility``: a quality-control rule (``qc.RULES``): the stay lies in a plausible window (not before 1990,
  not after the server's clock plus a day), the birth before the admission, the stay shorter than
  ``MAX_STAY_DAYS``, no amount negative or absurd.

Rule codes (all ERROR), family QC-LIM:
QC-LIM-001 text too long · QC-LIM-002 control character · QC-LIM-003 wrong type (an object, array or boolean
where a value belongs; a number that is not one) · QC-LIM-004 number out of range · QC-LIM-005 too many entries,
properties or levels, or an over-long property name · QC-LIM-006 institution code malformed · QC-LIM-007 date
outside the plausible window · QC-LIM-008 birth after admission · QC-LIM-009 stay too long · QC-LIM-010 amount
negative · QC-LIM-011 amount absurd. QC-LIM-099 stands for findings beyond the first ``MAX_FINDINGS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from libs.common.money import fen_text, wire_fen

from .dialects import CHINA, read_time
from .fields import MAX_DEPTH, MAX_ENTRIES, MAX_KEY, MAX_PROPERTIES, NODES, OTHER_TEXT, SETLINFO, Field, Kind
from .model import Finding, ParsedList, Severity, Verdicts, error

INSTITUTION = re.compile(r"H\d{11}")
MAX_FINDINGS = 100
"""Most findings listed in a response or a rejection record; the rest are counted (QC-LIM-099)."""
EARLIEST_STAY = date(1990, 1, 1)
EARLIEST_BIRTH = date(1870, 1, 1)
MAX_STAY_DAYS = 3650
"""Longest stay accepted: ten years (long psychiatric stays are settled in periods shorter than that)."""
MAX_AMOUNT_FEN = 20_000_000_00
"""Largest single amount of a stay: twenty million yuan (the costliest real stays are a tenth of it)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LONGEST_NUMBER_TEXT = 24


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a position of the input holds: an object of known fields, a list of such objects, or a value."""

    fields: Mapping[str, Field] | None = None
    entries: int = 0  # > 0: a list of objects of ``fields`` with at most this many entries


_TOP: Mapping[str, _Shape] = {"setlinfo": _Shape(SETLINFO),
                              **{node: _Shape(fields, MAX_ENTRIES[node]) for node, fields in NODES.items()}}
_ANY_LIST = 1000
"""Most entries of a list the national field sets do not name."""


def input_limits(body: Any, fixmedins_code: str) -> list[Finding]:
    """Findings (QC-LIM-001..006) of a list's ``input`` object in the internal form; empty when within limits."""
    found: list[Finding] = []
    if not (isinstance(fixmedins_code, str) and INSTITUTION.fullmatch(fixmedins_code)):
        found.append(error("QC-LIM-006", "fixmedins_code", "定点医药机构编号须为 H + 11 位数字",
                           f"fixmedins_code must be H + 11 digits, got {show(fixmedins_code)}"))
    if isinstance(body, Mapping):
        _object(body, "", _TOP, 1, found)
    return found


def object_limits(obj: Mapping[str, Any], fields: Mapping[str, Field], path: str) -> list[Finding]:
    """Findings of one object of known fields (an envelope, a 4102 entry), by the same limits."""
    found: list[Finding] = []
    _object(obj, path, fields, 1, found)
    return found


def _object(obj: Mapping[str, Any], path: str, shapes: Mapping[str, _Shape] | Mapping[str, Field], depth: int,
            found: list[Finding]) -> None:
    if depth > MAX_DEPTH:
        found.append(_too_many(path, f"nesting deeper than {MAX_DEPTH} levels"))
        return
    if len(obj) > MAX_PROPERTIES:
        found.append(_too_many(path or "input", f"{len(obj)} properties, at most {MAX_PROPERTIES}"))
        return
    for key, value in obj.items():
        where = f"{path}.{key}" if path else key
        if len(key) > MAX_KEY or _CONTROL.search(key):
            found.append(_too_many(path or "input", f"a property name longer than {MAX_KEY} characters or with "
                                   f"control characters: {show(key)}"))
            continue
        spec = shapes.get(key)
        if isinstance(spec, _Shape):
            _shaped(value, where, spec, depth + 1, found)
        elif isinstance(spec, Field):
            _field(value, where, spec, found)
        else:
            _other(value, where, depth + 1, found)


def _shaped(value: Any, path: str, shape: _Shape, depth: int, found: list[Finding]) -> None:
    fields = shape.fields or {}
    if shape.entries and isinstance(value, list):
        if len(value) > shape.entries:
            found.append(_too_many(path, f"{len(value)} entries, at most {shape.entries}"))
            return
        for i, entry in enumerate(value):
            if isinstance(entry, Mapping):
                _object(entry, f"{path}[{i}]", fields, depth + 1, found)
            else:
                _other(entry, f"{path}[{i}]", depth + 1, found)
    elif not shape.entries and isinstance(value, Mapping):
        _object(value, path, fields, depth, found)
    else:  # the wrong structure: quality control names it (QC-REQ); only its size matters here
        _other(value, path, depth, found)



def _field(value: Any, path: str, field: Field, found: list[Finding]) -> None:
    kind = field.kind
    if isinstance(value, dict | list) or (isinstance(value, bool) and kind is not Kind.MONEY):
        what = "an object" if isinstance(value, dict) else "an array" if isinstance(value, list) else "a boolean"
        found.append(error("QC-LIM-003", path, f"{path} 须为文本或数值",
                           f"{path} must be a text or a number, not {what}"))
        return
    if kind in (Kind.ID, Kind.TEXT):
        _text(str(value), path, field.size, kind is Kind.ID, found)
    elif kind in (Kind.INT, Kind.AGE, Kind.GRAMS):
        _number(value, path, field, found)
    elif isinstance(value, str):  # money, dates: read later; only their size matters here
        _text(value, path, _LONGEST_NUMBER_TEXT if kind is Kind.MONEY else 40, True, found)


def _number(value: Any, path: str, field: Field, found: list[Finding]) -> None:
    if not isinstance(value, int):  # the normaliser made every readable whole number an int
        found.append(error("QC-LIM-003", path, f"{path} 须为整数", f"{path} must be a whole number, got "
                           f"{show(value)}"))
        return
    low, high = field.range()
    if not low <= value <= high:
        found.append(error("QC-LIM-004", path, f"{path} 须在 {low} 至 {high} 之间",
                           f"{path} must lie between {low} and {high}, got {show(value)}"))


def _text(value: str, path: str, size: int, identifier: bool, found: list[Finding]) -> None:
    if len(value) > size:
        found.append(error("QC-LIM-001", path, f"{path} 超过 {size} 个字符",
                           f"{path} is longer than {size} characters ({len(value):,})"))
    elif (_CONTROL if identifier else _CONTROL_IN_TEXT).search(value):
        found.append(error("QC-LIM-002", path, f"{path} 含控制字符", f"{path} contains control characters"))


def _other(value: Any, path: str, depth: int, found: list[Finding]) -> None:
    """A property the national field sets do not name: kept as sent, within generic limits."""
    if isinstance(value, str):
        _text(value, path, OTHER_TEXT, False, found)
    elif isinstance(value, Mapping):
        _object(value, path, {}, depth, found)
    elif isinstance(value, list):
        if depth > MAX_DEPTH:
            found.append(_too_many(path, f"nesting deeper than {MAX_DEPTH} levels"))
        elif len(value) > _ANY_LIST:
            found.append(_too_many(path, f"{len(value):,} entries, at most {_ANY_LIST:,}"))
        else:
            for i, item in enumerate(value):
                _other(item, f"{path}[{i}]", depth + 1, found)


def _too_many(path: str, what: str) -> Finding:
    return error("QC-LIM-005", path, f"{path} 超出上限：{what}", f"{path}: {what}")


def show(value: Any) -> str:
    """A value for a message, never long: a list's message must not echo a megabyte back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- plausibility (a quality-control rule) ------------------------------------------------------------------------

def plausibility(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """QC-LIM-007..011 against the server's clock (China Standard Time)."""
    return plausibility_at(lst.body, china_now())


def china_now() -> datetime:
    """The server's clock in China Standard Time, naive (the form of the lists' own times)."""
    return datetime.now(CHINA).replace(tzinfo=None)


def plausibility_at(body: Mapping[str, Any], now: datetime) -> list[Finding]:
    found: list[Finding] = []
    latest = now + timedelta(days=1)
    s = body.get("setlinfo")
    s = s if isinstance(s, Mapping) else {}
    for path, field, value in _fields(body):
        if field.kind is Kind.MONEY:
            found += _amount(path, value)
        elif field.stay:
            moment = read_time(value)
            if moment is not None and (moment.date() < EARLIEST_STAY or moment > latest):
                found.append(error("QC-LIM-007", path, f"{path} 不在 {EARLIEST_STAY} 至服务器时间后一天之间",
                                   f"{path} {value} lies outside {EARLIEST_STAY} .. the server's clock plus a day "
                                   f"({latest:%Y-%m-%d %H:%M})"))
    admitted, discharged, born = read_time(s.get("adm_time")), read_time(s.get("dscg_time")), read_time(s.get("brdy"))
    if born is not None and (born.date() < EARLIEST_BIRTH or born > (admitted or latest)):
        found.append(error("QC-LIM-008", "setlinfo.brdy", "出生日期晚于入院时间或早于 1870 年",
                           f"setlinfo.brdy {born:%Y-%m-%d} is after the admission (or the server's clock) or "
                           f"before {EARLIEST_BIRTH.year}"))
    if admitted is not None and discharged is not None and (discharged.date() - admitted.date()).days > MAX_STAY_DAYS:
        found.append(error("QC-LIM-009", "setlinfo.dscg_time", f"住院天数超过 {MAX_STAY_DAYS} 天",
                           f"the stay lasts {(discharged.date() - admitted.date()).days:,} days, more than "
                           f"{MAX_STAY_DAYS:,}"))
    return found


def _fields(body: Mapping[str, Any]) -> Iterable[tuple[str, Field, Any]]:
    """(path, field, value) of every known field of setlinfo and the nodes."""
    s = body.get("setlinfo")
    if isinstance(s, Mapping):
        for name, value in s.items():
            if name in SETLINFO:
                yield f"setlinfo.{name}", SETLINFO[name], value
    for node, fields in NODES.items():
        entries = body.get(node)
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                if isinstance(entry, Mapping):
                    for name, value in entry.items():
                        if name in fields:
                            yield f"{node}[{i}].{name}", fields[name], value


def _amount(path: str, value: Any) -> list[Finding]:
    fen = wire_fen(value)
    if fen is None:
        return []  # not money at all: QC-FEE-004
    if fen < 0:
        return [error("QC-LIM-010", path, f"{path} 金额为负", f"{path} is negative ({fen_text(fen)})")]
    if fen > MAX_AMOUNT_FEN:
        return [error("QC-LIM-011", path, f"{path} 金额超过 {fen_text(MAX_AMOUNT_FEN)} 元",
                      f"{path} {fen_text(fen)} exceeds {fen_text(MAX_AMOUNT_FEN)} yuan, the most a stay can cost")]
    return []


# -- bounded findings ---------------------------------------------------------------------------------------------

def bounded(findings: Sequence[Finding], limit: int = MAX_FINDINGS) -> tuple[Finding, ...]:
    """At most ``limit`` findings; beyond that the first ``limit`` and one QC-LIM-099 that counts the rest."""
    if len(findings) <= limit:
        return tuple(findings)
    rest = len(findings) - limit
    severity = Severity.ERROR if any(f.severity is Severity.ERROR for f in findings[limit:]) else Severity.WARNING
    return (*findings[:limit], Finding("QC-LIM-099", severity, "", f"另有 {rest} 项未列出（共 {len(findings)} 项）",
                                       f"{rest} more findings not listed ({len(findings)} in all)"))
