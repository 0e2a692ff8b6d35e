"""The HIS form of a settlement list, made into the internal form: the one place where that happens.

Hospital systems serialise the national nodes the way their frameworks do: every property present, unset ones as
``""`` or ``null``; numbers as strings ("67", "3200.00"); dates as date-times and date-times in their own
shapes; provincial spellings (``nwbbirwt``, the older 4101's ``hi_type`` for ``insutype``). The internal form that
quality control, grouping and storage read has:

- no absent values: a property that is ``null``, ``""`` or blank is left out; so is a node entry left empty;
- strings without surrounding blanks; codes and identifiers as strings even when sent as numbers;
- counts and days as integers, ``age`` in completed years, newborn weights in whole grams (0 g means unset);
- money as decimal strings with two places ("450" and 450.0 become "450.00");
- dates as ``yyyy-MM-dd`` and times as ``yyyy-MM-dd HH:mm:ss`` in China Standard Time (from ``2026-01-03
  10:20:00``, ``2026-01-03T10:20:00.000+08:00``, ``2026/1/3 10:20``, ``20260103102000``, epoch milliseconds...);
- one canonical spelling per field (the canonical one wins where both are given) and lower-case property names.

A value that cannot be read stays as it was sent, for the input limits and quality control to name precisely.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from libs.national.clock import CHINA

from .fields import NODES, SETLINFO, Field, Kind

# Other spelling -> canonical (the national spelling), as seen in provincial implementations.
SETLINFO_ALIASES: Mapping[str, str] = {
    "nwbbirwt": "nwb_bir_wt", "nwb_admtype": "nwb_adm_type", "nwbadmwt": "nwb_adm_wt", "nwbage": "nwb_age",
    "otptcmdise": "otp_tcm_dise", "tcmdisecode": "tcm_dise_code", "acp_medins_code": "acp_optins_code",
    "lv3_nursecare_days": "lv3_nurscare_days", "hi_type": "insutype",
}

_ABSENT = object()
ABSENT = _ABSENT
"""What ``plain_form`` answers for a value that is left out of the internal form (blank, or a 0 g weight)."""
_LONGEST_READ = 40
"""Longer numbers and times are not read (they are refused by the input limits, untouched)."""
_TIME = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?)?"
                   r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?")


def normalise(body: Mapping[str, Any]) -> dict[str, Any]:
    """The internal form of a settlement list's ``input`` object (a new dict; ``body`` is not changed)."""
    out: dict[str, Any] = {}
    for key, value in _entry(body, {}, {}).items():
        if key == "setlinfo" and isinstance(value, Mapping):
            out[key] = _entry(value, SETLINFO, SETLINFO_ALIASES)
        elif key in NODES and isinstance(value, list):
            fields = NODES[key]
            entries = [_entry(e, fields, {}) if isinstance(e, Mapping) else e for e in value]
            out[key] = [e for e in entries if e != {}]
        else:
            out[key] = value
    return out


def normalise_entry(obj: Mapping[str, Any], fields: Mapping[str, Field]) -> dict[str, Any]:
    """The internal form of one object of known fields (a 4102 status entry, a 4103 query)."""
    return _entry(obj, fields, {})


def _entry(obj: Mapping[str, Any], fields: Mapping[str, Field], aliases: Mapping[str, str]) -> dict[str, Any]:
    """The present properties of ``obj`` in canonical spelling and internal form; the canonical spelling wins
    over an alias. (On the hot path of every upload: a list has a hundred-odd values.)"""
    out: dict[str, Any] = {}
    aliased: set[str] = set()
    for raw_key, value in obj.items():
        if value is None or value == "":
            continue
        key = raw_key if raw_key.islower() or not raw_key.isascii() else raw_key.lower()
        name = aliases.get(key, key) if aliases else key
        if name in out and (name != key or name not in aliased):
            continue  # an alias never replaces what is there; the canonical spelling replaces an alias
        field = fields.get(name)
        if field is None:
            plain = _plain(value)
        elif type(value) is str and field.kind in _TEXT_KINDS:  # most values: a code or a text
            plain = value.strip() or _ABSENT
        else:
            plain = _FORMS[field.kind](value, field)
        if plain is _ABSENT:
            continue
        out[name] = plain
        if name != key:
            aliased.add(name)
        else:
            aliased.discard(name)
    return out


def plain_form(value: Any, field: Field) -> Any:
    """One known field's value in the internal form (``ABSENT`` when it is left out): what ``normalise`` makes
    of it."""
    if type(value) is str and field.kind in _TEXT_KINDS:
        return value.strip() or _ABSENT
    return _FORMS[field.kind](value, field)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value if value else _ABSENT
    return value


def _text_form(value: Any, field: Field) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value if value else _ABSENT
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    return value


def _money_form(value: Any, field: Field) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return _ABSENT
        if _MONEY.fullmatch(value):
            return value
    if isinstance(value, bool | dict | list):
        return value
    return _money(value)


def _time_form(value: Any, field: Field) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return _ABSENT
        if len(value) == (10 if field.kind is Kind.DATE else 19) and _CANONICAL_TIME.match(value):
            return value  # already yyyy-MM-dd[ HH:mm:ss]: quality control checks the calendar
    moment = read_time(value)
    if moment is None:
        return value
    return moment.strftime("%Y-%m-%d") if field.kind is Kind.DATE else moment.strftime("%Y-%m-%d %H:%M:%S")


def _number_form(value: Any, field: Field) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return _ABSENT
    elif isinstance(value, bool | dict | list) or (isinstance(value, int) and field.kind is not Kind.GRAMS):
        return value
    number = _decimal(value)
    if number is None:
        return value
    if field.kind is Kind.AGE and number >= 0:
        return int(number.to_integral_value(rounding=ROUND_FLOOR))
    if field.kind is Kind.GRAMS:
        grams = int(number.to_integral_value(rounding=ROUND_HALF_UP))
        return _ABSENT if grams == 0 else grams
    return int(number) if number == number.to_integral_value() else value


_FORMS: Mapping[Kind, Callable[[Any, Field], Any]] = {
    Kind.ID: _text_form, Kind.TEXT: _text_form, Kind.MONEY: _money_form, Kind.DATE: _time_form,
    Kind.DATETIME: _time_form, Kind.INT: _number_form, Kind.AGE: _number_form, Kind.GRAMS: _number_form}
_TEXT_KINDS = frozenset((Kind.ID, Kind.TEXT))
_MONEY = re.compile(r"-?\d{1,13}\.\d\d")
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\d(?: \d\d:\d\d:\d\d)?$")


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _decimal(value: Any) -> Decimal | None:
    """A finite number below 10**15, read exactly from a JSON number or a string; else None."""
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > _LONGEST_READ:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) < Decimal(10) ** 15 else None


def _money(value: Any) -> Any:
    number = _decimal(value)
    if number is None or number != number.quantize(Decimal("0.01")):
        return value  # not money: quality control names it
    return f"{number:.2f}"


def read_time(value: Any) -> datetime | None:
    """A date or date-time as hospital systems write it, as a naive datetime in China Standard Time; None when
    it is not one. Epoch milliseconds (a 12- or 13-digit JSON integer) are read as such."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 10**11 <= value < 10**13:
            return datetime.fromtimestamp(value / 1000, CHINA).replace(tzinfo=None)
        value = str(value)
    if not isinstance(value, str) or len(value) > _LONGEST_READ:
        return None
    if _ISO.fullmatch(value):  # the internal form itself (quality control reads it on every list): C-fast
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None  # e.g. 2026-02-30: not a time, as below
    compact = _COMPACT.fullmatch(value)
    match = compact or _TIME.fullmatch(value)
    if match is None:
        return None
    parts = match.groups()
    try:
        year, month, day, hour, minute, second = (int(p) if p else 0 for p in parts[:6])
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    offset = None if compact else parts[7]
    if offset:
        moment = moment.replace(tzinfo=_zone(offset)).astimezone(CHINA).replace(tzinfo=None)
    return moment


def _zone(offset: str) -> timezone:
    if offset == "Z":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
