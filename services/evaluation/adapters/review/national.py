"""Stays from the national formats: a 4101A settlement list (rich, or HIS-form joined with its 2304 settlement
record), its 2301 fee details, and the grouping case the statistical rules need.

Hospital systems send every property, unset ones as ``""`` or ``null``, numbers as strings: every read here is
tolerant of that; a value that cannot be read is unknown (``None``), and the rules that need it stay quiet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.common.money import wire_fen
from libs.national.fees import normal_time
from services.collection.domain.case_facts import case_facts
from services.collection.domain.dialects import SETLINFO_ALIASES, normalise
from services.grouping.domain.case import Case

from ...domain.review.model import Stay


class ListFormatError(ValueError):
    """A settlement list that cannot be reviewed at all (no institution or settlement id)."""


@dataclass(frozen=True, slots=True)
class Record:
    """What review reads of a settlement record (2304): the person's sex, birth date and age, the total cost."""

    psn_no: str
    mdtrt_id: str
    sex: int | None
    birth: date | None
    age: int | None
    total_fen: int | None


def record_key(line: Mapping[str, Any]) -> tuple[str, str, str]:
    """(infno, institution, setl_id) of a settlement-records line (2304 record or 2305 reversal)."""
    setlinfo = line.get("setlinfo") or {}
    return str(line.get("infno") or ""), str(line.get("fixmedins_code") or ""), str(setlinfo.get("setl_id") or "")


def read_record(line: Mapping[str, Any]) -> Record:
    s = line.get("setlinfo") or {}
    return Record(_text(s.get("psn_no")), _text(s.get("mdtrt_id")), _int(s.get("gend")), _date(s.get("brdy")),
                  _whole_years(s.get("age")), wire_fen(s.get("medfee_sumamt")))


@dataclass(frozen=True, slots=True)
class ListReading:
    """A list read for review: the stay (no fee details yet) and the case to group it by."""

    stay: Stay
    case: Case


def read_list(request: Mapping[str, Any], record: Record | None = None) -> ListReading:
    """A 4101A request (the envelope with ``input``, or a bare ``input`` with ``fixmedins_code``) as a stay.

    Sex, birth date and age come from the list where it carries them (rich form), else from the record; the total
    cost from the record, else the list's ``medfee_sumamt``, else its fee categories.
    """
    body = request.get("input", request)
    if not isinstance(body, Mapping) or not isinstance(body.get("setlinfo"), Mapping):
        raise ListFormatError("no input.setlinfo object")
    body = normalise(_read_part(body))
    s = body["setlinfo"]
    hospital = _text(request.get("fixmedins_code") or s.get("fixmedins_code"))
    setl_id = _text(s.get("setl_id"))
    if not hospital or not setl_id:
        raise ListFormatError("fixmedins_code and setlinfo.setl_id are required")
    facts = case_facts(body)
    admitted, discharged = _time(s.get("adm_time")), _time(s.get("dscg_time"))
    sex = _int(s.get("gend"))
    birth = _date(s.get("brdy"))
    stated = _whole_years(s.get("age"))
    total = wire_fen(s.get("medfee_sumamt")) if s.get("medfee_sumamt") not in (None, "") else None
    if record is not None:
        sex = sex if sex in (1, 2) else record.sex
        birth = birth or record.birth
        stated = stated if stated is not None else record.age
        total = record.total_fen if record.total_fen is not None else total
    categories = _categories(body.get("iteminfo"))
    if total is None and categories is not None:
        total = sum(amount for _, amount in categories)
    age = _years(birth, admitted.date()) if birth and admitted else None
    stay = Stay(
        fixmedins_code=hospital, setl_id=setl_id, mdtrt_id=_text(s.get("mdtrt_id")) or (record.mdtrt_id if record
                                                                                        else ""),
        psn_no=_text(s.get("psn_no")) or (record.psn_no if record else ""), sex=sex if sex in (1, 2) else None,
        age_years=age, stated_age=stated, admitted=admitted, discharged=discharged,
        discharge_way=_text(s.get("dscg_way")), dept=_text(s.get("dscg_caty")), doctor=_text(s.get("chfpdr_code")),
        diagnoses=facts.diagnoses, procedures=facts.procedures, total_fen=total, category_fen=categories,
        birth=birth)
    los = stay.los_days
    age_days = facts.age_days
    if age_days is None and birth and admitted and age == 0:
        age_days = (admitted.date() - birth).days
    case = Case(dx=facts.diagnoses, px=facts.procedures, sex=stay.sex, age_years=age if age is not None else stated,
                age_days=age_days, birth_weight_g=facts.birth_weight_g, los_days=los,
                discharge_type=stay.discharge_way, dept=stay.dept)
    return ListReading(stay, case)


_NODES_READ = frozenset({"setlinfo", "diseinfo", "oprninfo", "iteminfo"})
_SETLINFO_READ = frozenset({"fixmedins_code", "setl_id", "mdtrt_id", "psn_no", "gend", "brdy", "age", "adm_time",
                            "dscg_time", "medfee_sumamt", "dscg_way", "dscg_caty", "chfpdr_code", "nwb_age",
                            "nwb_bir_wt"})
"""The setlinfo values ``read_list`` and ``case_facts`` read (canonical spellings)."""
_SETLINFO_SPELLINGS = _SETLINFO_READ | {alias for alias, name in SETLINFO_ALIASES.items() if name in _SETLINFO_READ}


def _lower(key: str) -> str:
    """A property name as ``dialects.normalise`` reads it."""
    return key if key.islower() or not key.isascii() else key.lower()


def _read_part(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a list's ``input`` that review reads: the nodes above, and of setlinfo (a hundred-odd values)
    the fifteen above, in every spelling ``normalise`` reads as theirs. ``normalise`` of the part gives those
    values exactly as ``normalise`` of the whole list does (it reads each property name on its own), in a
    quarter of the time."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = _lower(key)
        if name in _NODES_READ:
            out[key] = _setlinfo_part(value) if name == "setlinfo" and isinstance(value, Mapping) else value
    return out


def _setlinfo_part(setlinfo: Mapping[str, Any]) -> dict[str, Any]:
    names = "".join(setlinfo)
    if names == names.lower():  # no name to lower-case (nearly every list): the spellings themselves
        return {key: setlinfo[key] for key in setlinfo.keys() & _SETLINFO_SPELLINGS}
    return {key: value for key, value in setlinfo.items()
            if SETLINFO_ALIASES.get(_lower(key), _lower(key)) in _SETLINFO_READ}


def _categories(items: Any) -> tuple[tuple[str, int], ...] | None:
    """The list's fee categories (``iteminfo``), ``None`` when it has none (HIS-form) or they are unreadable."""
    if not isinstance(items, list) or not items:
        return None
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            return None
        amount = wire_fen(item.get("amt"))
        category = _text(item.get("med_chrgitm"))
        if amount is None or not category:
            return None
        out.append((category.zfill(2), amount))
    return tuple(out)


def _text(value: Any) -> str:
    return "" if value is None else value.strip() if isinstance(value, str) else str(value)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _whole_years(value: Any) -> int | None:
    """A stated age in whole years: the national field is number(4,1), so "67", 67 and "67.0" are 67 (a fraction
    of a year is not a year more)."""
    whole = _int(value)
    if whole is not None or not isinstance(value, (str, float)):
        return whole
    text = str(value).strip()
    head, dot, tail = text.partition(".")
    return int(head) if dot and head.isdigit() and tail.isdigit() else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _time(value: Any) -> datetime | None:
    text = normal_time(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _years(birth: date, on: date) -> int | None:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return years if years >= 0 else None
