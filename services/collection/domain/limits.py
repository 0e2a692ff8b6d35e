"""Input limits of a settlement list: what no real list can hold is refused, precisely and cheaply.

Two layers, both pure, both over the internal form (``dialects.normalise``):

- ``input_limits``: one pass over the list before anything else reads it: every text within its length and
  free of control characters, numbers within their ranges, at most so many entries, properties and levels, no
  amount negative or absurd, every date and time of the stay in the plausible window (not before 1990, not after
  the server's clock plus a day). A list that breaks one is refused with these findings alone: nothing downstream
  (code validation, grouping, storage) ever sees an oversized, malformed or impossible value.
- ``plausibility``: a quality-control rule (``qc.RULES``) across fields: the birth before the admission, the
  stay shorter than ``MAX_STAY_DAYS``.

Rule codes (all ERROR), family QC-LIM:
QC-LIM-001 text too long · QC-LIM-002 control character · QC-LIM-003 wrong type (an object, array or boolean
where a value belongs; a number that is not one) · QC-LIM-004 number out of range · QC-LIM-005 too many entries,
properties or levels, or an over-long property name · QC-LIM-006 institution code malformed · QC-LIM-007 date
outside the plausible window · QC-LIM-008 birth after admission or before 1870 · QC-LIM-009 stay too long ·
QC-LIM-010 amount negative · QC-LIM-011 amount absurd. QC-LIM-099 counts findings beyond the first
``MAX_FINDINGS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from libs.common.money import fen_text, wire_fen
from libs.national.clock import china_now as aware_china_now

from .dialects import ABSENT, SETLINFO_ALIASES, plain_form, read_time
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
_LONGEST_AMOUNT = len(fen_text(MAX_AMOUNT_FEN))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LONGEST_NUMBER_TEXT = 24
_LONGEST_TIME_TEXT = 40
_ANY_LIST = 1000
"""Most entries of a list the national field sets do not name."""


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a position of the input holds: an object of known fields, or a list of such objects."""

    fields: Mapping[str, Field]
    entries: int = 0  # > 0: a list of objects of ``fields`` with at most this many entries


_TOP: Mapping[str, _Shape] = {"setlinfo": _Shape(SETLINFO),
                              **{node: _Shape(fields, MAX_ENTRIES[node]) for node, fields in NODES.items()}}


def china_now() -> datetime:
    """The server's clock in China Standard Time, naive (the form of the lists' own times)."""
    return aware_china_now().replace(tzinfo=None)


def input_limits(body: Any, fixmedins_code: str, now: datetime | None = None) -> list[Finding]:
    """Findings (QC-LIM-001..007, 010, 011) of a list's ``input`` object in the internal form; empty when within
    limits. ``now``: the server's clock (China Standard Time) unless given."""
    check = _Check(now or china_now())
    if not (isinstance(fixmedins_code, str) and INSTITUTION.fullmatch(fixmedins_code)):
        check.found.append(error("QC-LIM-006", "fixmedins_code", "定点医药机构编号须为 H + 11 位数字",
                                 f"fixmedins_code must be H + 11 digits, got {show(fixmedins_code)}"))
    if isinstance(body, Mapping):
        check.object(body, "", _TOP, 1)
    return check.found


def object_limits(obj: Mapping[str, Any], fields: Mapping[str, Field], path: str) -> list[Finding]:
    """Findings of one object of known fields (an envelope, a 4102 entry), by the same limits."""
    check = _Check(china_now())
    check.object(obj, path, fields, 1)
    return check.found


class _Check:
    """One pass over an input (on the hot path of every upload: a path is spelled out only for a finding)."""

    def __init__(self, now: datetime) -> None:
        self.found: list[Finding] = []
        self.latest = _latest(now)
        self.earliest = _EARLIEST

    def object(self, obj: Mapping[str, Any], path: str, shapes: Mapping[str, _Shape] | Mapping[str, Field],
               depth: int) -> None:
        if depth > MAX_DEPTH:
            self.found.append(_too_many(path, f"nesting deeper than {MAX_DEPTH} levels"))
            return
        if len(obj) > MAX_PROPERTIES:
            self.found.append(_too_many(path or "input", f"{len(obj)} properties, at most {MAX_PROPERTIES}"))
            return
        for key, value in obj.items():
            spec = shapes.get(key)
            if spec is None:
                if len(key) > MAX_KEY or _CONTROL.search(key):
                    self.found.append(_too_many(path or "input", f"a property name longer than {MAX_KEY} "
                                                f"characters or with control characters: {show(key)}"))
                else:
                    self.other(value, _join(path, key), depth + 1)
            elif isinstance(spec, Field):
                if not self.fits(value, spec):
                    self.field(value, _join(path, key), spec)
            else:
                self.shaped(value, _join(path, key), spec, depth + 1)

    def fits(self, value: Any, field: Field) -> bool:
        """The common case, answered fast: a value of the field's form within its limits."""
        kind = field.kind
        if type(value) is str:
            if kind is Kind.ID:
                return len(value) <= field.size and not _CONTROL.search(value)
            if kind is Kind.TEXT:
                return len(value) <= field.size and not _CONTROL_IN_TEXT.search(value)
            if kind is Kind.MONEY:  # the internal form of money is "-?digits.dd": sign and length tell
                return value[:1] != "-" and (len(value) < _LONGEST_AMOUNT or (
                    len(value) <= _LONGEST_NUMBER_TEXT and 0 <= (wire_fen(value) or 0) <= MAX_AMOUNT_FEN))
            if kind in (Kind.DATE, Kind.DATETIME):
                return len(value) <= _LONGEST_TIME_TEXT and (not field.stay or self.in_window(value))
            return False
        if type(value) is int and kind in (Kind.INT, Kind.AGE, Kind.GRAMS):
            low, high = field.range()
            return low <= value <= high
        return False

    def in_window(self, value: str) -> bool:
        """A stay date or time inside (1990-01-01, the clock plus a day), or not a time at all (QC-DT names that).
        Times in the internal form compare as text: the common case reads no datetime."""
        if len(value) in (10, 19) and value[4:5] == "-":
            return self.earliest <= value[:10] and value <= self.latest
        moment = read_time(value)
        return moment is None or self.earliest <= moment.strftime("%Y-%m-%d %H:%M:%S") <= self.latest

    def field(self, value: Any, path: str, field: Field) -> None:
        """The finding of a value that does not fit its field (``fits`` said so)."""
        kind = field.kind
        if isinstance(value, dict | list) or (isinstance(value, bool) and kind is not Kind.MONEY):
            what = "an object" if isinstance(value, dict) else "an array" if isinstance(value, list) else "a boolean"
            self.found.append(error("QC-LIM-003", path, f"{path} 须为文本或数值",
                                    f"{path} must be a text or a number, not {what}"))
        elif kind in (Kind.ID, Kind.TEXT):
            self.text(str(value), path, field.size, kind is Kind.ID)
        elif kind in (Kind.INT, Kind.AGE, Kind.GRAMS):
            self.number(value, path, field)
        elif isinstance(value, str) and len(value) > (_LONGEST_NUMBER_TEXT if kind is Kind.MONEY
                                                      else _LONGEST_TIME_TEXT):
            self.text(value, path, _LONGEST_NUMBER_TEXT if kind is Kind.MONEY else _LONGEST_TIME_TEXT, True)
        elif kind is Kind.MONEY:
            fen = wire_fen(value)
            if fen is not None and fen < 0:
                self.found.append(error("QC-LIM-010", path, f"{path} 金额为负", f"{path} is negative ({value})"))
            elif fen is not None:
                self.found.append(error("QC-LIM-011", path, f"{path} 金额超过 {fen_text(MAX_AMOUNT_FEN)} 元",
                                        f"{path} {fen_text(fen)} exceeds {fen_text(MAX_AMOUNT_FEN)} yuan, the most "
                                        f"a stay can cost"))
        elif isinstance(value, str):  # a stay date or time outside the window
            self.found.append(error("QC-LIM-007", path, f"{path} 不在 {EARLIEST_STAY} 至服务器时间后一天之间",
                                    f"{path} {show(value)} lies outside {EARLIEST_STAY} .. the server's clock plus "
                                    f"a day ({self.latest[:16]})"))

    def number(self, value: Any, path: str, field: Field) -> None:
        if not isinstance(value, int):  # the normaliser made every readable whole number an int
            self.found.append(error("QC-LIM-003", path, f"{path} 须为整数",
                                    f"{path} must be a whole number, got {show(value)}"))
            return
        low, high = field.range()
        self.found.append(error("QC-LIM-004", path, f"{path} 须在 {low} 至 {high} 之间",
                                f"{path} must lie between {low} and {high}, got {show(value)}"))

    def text(self, value: str, path: str, size: int, identifier: bool) -> None:
        if len(value) > size:
            self.found.append(error("QC-LIM-001", path, f"{path} 超过 {size} 个字符",
                                    f"{path} is longer than {size} characters ({len(value):,})"))
        elif (_CONTROL if identifier else _CONTROL_IN_TEXT).search(value):
            self.found.append(error("QC-LIM-002", path, f"{path} 含控制字符", f"{path} contains control characters"))

    def shaped(self, value: Any, path: str, shape: _Shape, depth: int) -> None:
        if shape.entries and isinstance(value, list):
            if len(value) > shape.entries:
                self.found.append(_too_many(path, f"{len(value)} entries, at most {shape.entries}"))
                return
            for i, entry in enumerate(value):
                if isinstance(entry, Mapping):
                    self.object(entry, f"{path}[{i}]", shape.fields, depth + 1)
                else:
                    self.other(entry, f"{path}[{i}]", depth + 1)
        elif not shape.entries and isinstance(value, Mapping):
            self.object(value, path, shape.fields, depth)
        else:  # the wrong structure: quality control names it (QC-REQ); only its size matters here
            self.other(value, path, depth)

    def other(self, value: Any, path: str, depth: int) -> None:
        """A property the national field sets do not name: kept as sent, within generic limits."""
        if isinstance(value, str):
            if len(value) > OTHER_TEXT or _CONTROL_IN_TEXT.search(value):
                self.text(value, path, OTHER_TEXT, False)
        elif isinstance(value, Mapping):
            self.object(value, path, {}, depth)
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                self.found.append(_too_many(path, f"nesting deeper than {MAX_DEPTH} levels"))
            elif len(value) > _ANY_LIST:
                self.found.append(_too_many(path, f"{len(value):,} entries, at most {_ANY_LIST:,}"))
            else:
                for i, item in enumerate(value):
                    self.other(item, f"{path}[{i}]", depth + 1)


_EARLIEST = EARLIEST_STAY.isoformat()
_latest_of: dict[datetime, str] = {}


def _latest(now: datetime) -> str:
    """The latest plausible stay time for the clock ``now`` (the clock plus a day), as text; remembered for the
    second (every list of a bulk import asks)."""
    second = now.replace(microsecond=0)
    latest = _latest_of.get(second)
    if latest is None:
        _latest_of.clear()
        latest = _latest_of[second] = (second + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    return latest


def stay_window(now: datetime | None = None) -> tuple[str, str]:
    """The plausible window of a stay's dates and times as texts of the internal form: the earliest date and
    the latest time (the clock, China Standard Time unless given, plus a day)."""
    return _EARLIEST, _latest(now or china_now())


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _too_many(path: str, what: str) -> Finding:
    return error("QC-LIM-005", path, f"{path} 超出上限：{what}", f"{path}: {what}")


def show(value: Any) -> str:
    """A value for a message, never long: a list's message must not echo a megabyte back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- one pass: the internal form of a list within its limits ------------------------------------------------------

_TEXT_KINDS, _COUNT_KINDS = frozenset((Kind.ID, Kind.TEXT)), frozenset((Kind.INT, Kind.AGE))
_PLAIN_MONEY = re.compile(rf"\d{{1,{_LONGEST_AMOUNT - 4}}}\.\d\d")
"""Money in the internal form short enough to lie within the limits whatever its digits (the common case)."""
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\d(?: \d\d:\d\d:\d\d)?")
_Spec = tuple[Kind, int, int, int, bool, Field]
"""A field precompiled: its kind, most characters (texts) or its range (counts), the length of its canonical
text (dates and times; else -1), whether it is a time of the stay."""


def _specs(fields: Mapping[str, Field]) -> dict[str, _Spec]:
    out = {}
    for name, f in fields.items():
        low, high = f.range() if f.kind in (Kind.INT, Kind.AGE, Kind.GRAMS) else (0, 0)
        length = 10 if f.kind is Kind.DATE else 19 if f.kind is Kind.DATETIME else -1
        out[name] = (f.kind, f.size if f.kind in _TEXT_KINDS else low, high, length, f.stay, f)
    return out


_SETLINFO_SPECS = _specs(SETLINFO)
_NODE_SPECS = {node: (_specs(fields), MAX_ENTRIES[node]) for node, fields in NODES.items()}


def checked_form(body: Mapping[str, Any], fixmedins_code: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The internal form of a list's ``input`` object (what ``dialects.normalise`` makes of it) when it is
    within every input limit, in one pass over the values; None when the list needs the precise path
    (``normalise``, then ``input_limits`` names its findings): a value breaking a limit, an alias or a
    property name to lower-case, a nested value where none belongs. The two paths agree on every list this
    answers (tests/unit/collection/test_checked_form.py)."""
    if not (isinstance(fixmedins_code, str) and INSTITUTION.fullmatch(fixmedins_code)) or len(body) > MAX_PROPERTIES:
        return None
    check = _Check(now or china_now())
    out: dict[str, Any] = {}
    for key, value in body.items():
        if value is None or value == "":
            continue
        if key == "setlinfo":
            if type(value) is not dict:
                return None
            entry = _checked_entry(value, _SETLINFO_SPECS, check, SETLINFO_ALIASES)
            if entry is None:
                return None
            out[key] = entry
        elif key in _NODE_SPECS:
            specs, most = _NODE_SPECS[key]
            if type(value) is not list or len(value) > most:
                return None
            entries = []
            for item in value:
                if type(item) is not dict:
                    return None
                entry = _checked_entry(item, specs, check)
                if entry is None:
                    return None
                if entry:
                    entries.append(entry)
            out[key] = entries
        else:
            plain = _other(key, value)
            if plain is None:
                return None
            out[key] = plain
    return out


def _checked_entry(obj: dict[str, Any], specs: Mapping[str, _Spec], check: _Check,
                   aliases: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """An object of known fields, as ``dialects._entry`` and ``_Check.object`` read it."""
    if len(obj) > MAX_PROPERTIES:
        return None
    latest, earliest = check.latest, check.earliest
    if aliases is None and _in_form(obj, specs, check):  # a node entry already in the internal form
        return dict(obj)
    out: dict[str, Any] = {}
    for name, sent in obj.items():
        if sent is None or sent == "":
            continue
        key, spec = name, specs.get(name)
        if spec is None and aliases and name in aliases:  # an alias never replaces the canonical spelling
            key = aliases[name]
            if key in out:
                continue
            spec = specs[key]
        if spec is None:
            if key in SETLINFO_ALIASES:
                return None
            plain = _other(key, sent)
            if plain is None:
                return None
            out[key] = plain
            continue
        kind, low, high, length, stay, field = spec
        if type(sent) is str:
            value = sent.strip()
            if not value:
                continue
            if kind in _TEXT_KINDS:
                if len(value) > low or _CONTROL.search(value):
                    return None
                out[key] = value
                continue
            if kind is Kind.MONEY and _PLAIN_MONEY.fullmatch(value):
                out[key] = value
                continue
            if len(value) == length and _CANONICAL_TIME.fullmatch(value):
                if stay and not (earliest <= value[:10] and value <= latest):
                    return None
                out[key] = value
                continue
        elif type(sent) is int and kind in _COUNT_KINDS:
            if not low <= sent <= high:
                return None
            out[key] = sent
            continue
        plain = plain_form(sent, field)
        if plain is ABSENT:
            continue
        if not check.fits(plain, field):
            return None
        out[key] = plain
    return out


def _in_form(obj: dict[str, Any], specs: Mapping[str, _Spec], check: _Check) -> bool:
    """Whether every value of the entry is a text already in the internal form and within its limits: one
    regex over the values (most node entries are), instead of value by value."""
    keys = tuple(obj)
    shape = _shapes.get((id(specs), keys), _UNSEEN)
    if shape is _UNSEEN:
        shape = _shape(specs, keys)
    if shape is None:
        return False
    pattern, stay = shape
    try:
        joined = "\x1f".join(obj.values())
    except TypeError:  # a value that is not a text: read value by value
        return False
    return pattern.fullmatch(joined) is not None and (not stay or all(
        check.earliest <= obj[k][:10] and obj[k] <= check.latest for k in stay))


_EntryShape = tuple[re.Pattern[str], tuple[str, ...]]
_shapes: dict[tuple[int, tuple[str, ...]], _EntryShape | None] = {}
_UNSEEN: Any = object()
_NOT_BLANK = r"[^\s\x00-\x1f\x7f-\x9f]"
_ANY = r"[^\x00-\x1f\x7f-\x9f]"


def _shape(specs: Mapping[str, _Spec], keys: tuple[str, ...]) -> _EntryShape | None:
    """For an entry of these properties, all texts: a pattern over its values joined by a unit separator that
    matches only when every value is already in the internal form and within its limits (a text with no blank
    at either end and no control character within its length, money "d.dd", a canonical date or time), and the
    properties that are times of the stay (their window is checked apart). None when a property is not a text
    field."""
    cache = (id(specs), keys)
    if cache in _shapes:
        return _shapes[cache]
    parts: list[str] = []
    stay: list[str] = []
    for key in keys:
        spec = specs.get(key)
        if spec is None:
            parts = []
            break
        kind, size, _, _, is_stay, _ = spec
        if kind in _TEXT_KINDS:
            parts.append(_NOT_BLANK if size == 1 else f"{_NOT_BLANK}(?:{_ANY}{{0,{size - 2}}}{_NOT_BLANK})?")
        elif kind is Kind.MONEY:
            parts.append(rf"[0-9]{{1,{_LONGEST_AMOUNT - 4}}}\.[0-9]{{2}}")
        elif kind in (Kind.DATE, Kind.DATETIME):
            parts.append(r"[0-9]{4}-[0-9]{2}-[0-9]{2}" + (" [0-9]{2}:[0-9]{2}:[0-9]{2}" if kind is Kind.DATETIME
                                                          else ""))
            if is_stay:
                stay.append(key)
        else:
            parts = []
            break
    shape = (re.compile("\x1f".join(parts)), tuple(stay)) if parts else None
    if len(_shapes) < 1024:  # entries of a few shapes each; a file of odd ones does not grow this
        _shapes[cache] = shape
    return shape


def _other(key: str, value: Any) -> Any:
    """A property of no known field in the internal form within its limits; None when it needs the precise
    path."""
    if not key.islower() or len(key) > MAX_KEY or _CONTROL.search(key):
        return None
    if type(value) is str:
        value = value.strip()
        return None if not value or len(value) > OTHER_TEXT or _CONTROL.search(value) else value
    return value if type(value) in (int, float, bool) else None


# -- plausibility across fields (a quality-control rule) ---------------------------------------------------------

def plausibility(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """QC-LIM-008 and 009 against the server's clock (China Standard Time)."""
    return plausibility_at(lst.body)


def plausibility_at(body: Mapping[str, Any], now: datetime | None = None) -> list[Finding]:
    """``plausibility`` of a list's ``input`` object; ``now``: the server's clock (China Standard Time) unless
    given, read only when a birth date has no admission to be compared with (the common list has one: reading
    the clock for every list was a tenth of quality control's cost)."""
    s = body.get("setlinfo")
    if type(s) is dict:
        admitted, discharged, born = s.get("adm_time"), s.get("dscg_time"), s.get("brdy")
        if (type(admitted) is str and type(discharged) is str and type(born) is str
                and _PLAIN_STAY.fullmatch(f"{admitted}\x1f{discharged}\x1f{born}") is not None
                and _EARLIEST_BIRTH_TEXT <= born <= admitted[:10] and int(discharged[:4]) - int(admitted[:4]) < 8):
            return []  # nothing to say, told from the texts (see ``_PLAIN_STAY``)
    return _plausibility_read(s, now)


_PLAIN_DAY = (r"(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
              r"|(?:0[13578]|1[02])-31)")
_PLAIN_TIME = r" (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_PLAIN_STAY = re.compile(f"{_PLAIN_DAY}{_PLAIN_TIME}\x1f{_PLAIN_DAY}{_PLAIN_TIME}\x1f{_PLAIN_DAY}")
"""An admission and a discharge time and a birth date of the internal form that are real days and times (no
29 February: those few are read): compared as texts they compare as the times ``read_time`` makes of them. A
birth from 1870 to the admission's day is never after the admission (it is read as its midnight), and a stay
whose discharge year is less than eight after its admission's is shorter than ``MAX_STAY_DAYS``. The common
list is told from its texts in one match (reading the three times was the most of quality control's costs)."""
_EARLIEST_BIRTH_TEXT = EARLIEST_BIRTH.isoformat()


def _plausibility_read(s: Any, now: datetime | None = None) -> list[Finding]:
    """``plausibility_at`` of a ``setlinfo`` (anything), its times read."""
    found: list[Finding] = []
    s = s if isinstance(s, Mapping) else {}
    admitted, discharged, born = read_time(s.get("adm_time")), read_time(s.get("dscg_time")), read_time(s.get("brdy"))
    if born is not None and (born.date() < EARLIEST_BIRTH
                             or born > (admitted or (now or china_now()) + timedelta(days=1))):
        found.append(error("QC-LIM-008", "setlinfo.brdy", "出生日期晚于入院时间或早于 1870 年",
                           f"setlinfo.brdy {born:%Y-%m-%d} is after the admission (or the server's clock) or "
                           f"before {EARLIEST_BIRTH.year}"))
    if admitted is not None and discharged is not None and (discharged.date() - admitted.date()).days > MAX_STAY_DAYS:
        found.append(error("QC-LIM-009", "setlinfo.dscg_time", f"住院天数超过 {MAX_STAY_DAYS} 天",
                           f"the stay lasts {(discharged.date() - admitted.date()).days:,} days, more than "
                           f"{MAX_STAY_DAYS:,}"))
    return found


# -- bounded findings ---------------------------------------------------------------------------------------------

def bounded(findings: Sequence[Finding], limit: int = MAX_FINDINGS) -> tuple[Finding, ...]:
    """At most ``limit`` findings; beyond that the first ``limit`` and one QC-LIM-099 that counts the rest."""
    if len(findings) <= limit:
        return tuple(findings)
    rest = len(findings) - limit
    severity = Severity.ERROR if any(f.severity is Severity.ERROR for f in findings[limit:]) else Severity.WARNING
    return (*findings[:limit], Finding("QC-LIM-099", severity, "", f"另有 {rest} 项未列出（共 {len(findings)} 项）",
                                       f"{rest} more findings not listed ({len(findings)} in all)"))
