"""The facts of a settlement list that grouping needs, read from the 4101A nodes.

Field spellings differ between provinces (``nwb_bir_wt`` / ``nwbbirwt``): both are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CaseFacts:
    sex: int | None
    age_years: int | None
    age_days: int | None
    birth_weight_g: int | None
    los_days: int | None
    discharge_type: str
    dept: str
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...]


def case_facts(body: Mapping[str, Any]) -> CaseFacts:
    """Grouping input of a list's ``input`` object; unreadable values become ``None`` (QC reports them)."""
    s = body.get("setlinfo") or {}
    return _facts(body, s, sex=read_int(s.get("gend")), age_years=read_int(s.get("age")),
                  age_days=read_int(_first(s, "nwb_age", "nwbage")),
                  los_days=length_of_stay(s.get("adm_time"), s.get("dscg_time")))


def with_person(facts: CaseFacts, *, sex: int | None, age_years: int | None, birth_date: date | None,
                admitted: date | None) -> CaseFacts:
    """The facts with the case's person: sex, age in years (``age_years``, or completed years at admission from
    the birth date when no age is given) and, under one year, age in days (the list's ``nwb_age``, else days
    since birth at admission: a newborn's age in days comes from the record's birth date)."""
    years, days = _ages(facts.age_days, age_years, birth_date, admitted)
    return replace(facts, sex=sex, age_years=years, age_days=days)


def list_facts(body: Mapping[str, Any], admitted: datetime | None, *, sex: int | None, age_years: int | None,
               birth_date: date | None) -> CaseFacts:
    """``with_person(case_facts(body), ...)`` built at once, for a list whose admission time (``adm_time``) has
    been read already as ``admitted``: parsing makes one for every list, and a second construction (``replace``)
    and a second reading of the admission were a tenth of its cost."""
    s = body.get("setlinfo") or {}
    years, days = _ages(read_int(_first(s, "nwb_age", "nwbage")), age_years, birth_date,
                        admitted.date() if admitted else None)
    return _facts(body, s, sex=sex, age_years=years, age_days=days,
                  los_days=_stay_days(admitted, parse_time(s.get("dscg_time"))))


def _facts(body: Mapping[str, Any], s: Mapping[str, Any], *, sex: int | None, age_years: int | None,
           age_days: int | None, los_days: int | None) -> CaseFacts:
    """The facts of a list whose person (sex and ages) and length of stay are given; the rest read from it."""
    return CaseFacts(
        sex=sex, age_years=age_years, age_days=age_days,
        birth_weight_g=read_int(_first(s, "nwb_bir_wt", "nwbbirwt")),
        los_days=los_days,
        discharge_type=str(s.get("dscg_way") or ""),
        dept=str(s.get("dscg_caty") or ""),
        diagnoses=_principal_first(body.get("diseinfo") or [], "diag_code", "maindiag_flag", "1"),
        procedures=_principal_first(body.get("oprninfo") or [], "oprn_oprt_code", "oprn_oprt_type", "1"),
    )


def _ages(age_days: int | None, age_years: int | None, birth_date: date | None,
          admitted: date | None) -> tuple[int | None, int | None]:
    """(age in years, age in days) of ``with_person``, from the stated ones and the birth date at admission."""
    years = age_years
    if years is None and birth_date is not None and admitted is not None:
        years = completed_years(birth_date, admitted)
    days = age_days
    if (days is None and years is not None and years < 1 and birth_date is not None and admitted is not None
            and admitted >= birth_date and completed_years(birth_date, admitted) < 1):
        days = (admitted - birth_date).days
    return years, days


def completed_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


ICU_DEPARTMENTS = ("A28", "ICU")
"""Department codes of intensive care: 重症医学科 is A28 in the national department codes (dept, 诊疗科目 28),
with its sub-departments A28.xx; some hospital systems send the label itself."""


def grouping_dept(dscg_caty: str) -> str:
    """The department as the grouping schemes name it: "ICU" for intensive care (Zhejiang 2022 splits
    groups on it), else the discharge department code unchanged."""
    code = dscg_caty.strip().upper()
    if code in ICU_DEPARTMENTS or code.startswith(_ICU_SUBDEPARTMENTS):
        return "ICU"
    return dscg_caty.strip()


_ICU_SUBDEPARTMENTS = tuple(f"{icu}." for icu in ICU_DEPARTMENTS)


def parse_day(value: Any) -> date | None:
    """A day "yyyy-MM-dd" (the date of a "yyyy-MM-dd HH:mm:ss" too), or None: the one reader of a list's and a
    record's dates (the door has already brought them into this form)."""
    if not isinstance(value, str) or len(value) < 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | None:
    """"yyyy-MM-dd HH:mm:ss" exactly, or None. (fromisoformat is C-fast; the shape check keeps it strict.)"""
    if not isinstance(value, str) or len(value) != 19 or value[10] != " " or value[4] != "-" or value[13] != ":":
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def length_of_stay(admitted: Any, discharged: Any) -> int | None:
    """Discharge date minus admission date in days; a same-day stay counts 1 (PRIMER section 3)."""
    return _stay_days(parse_time(admitted), parse_time(discharged))


def _stay_days(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    days = (end.date() - start.date()).days
    return max(days, 1) if days >= 0 else None


def _principal_first(items: Sequence[Any], code: str, flag: str, principal: str) -> tuple[str, ...]:
    """The codes of the entries that have one, the principal ones first, each part in the list's order (what a
    stable sort on "not principal" gives, without the sort and its key function: two per list)."""
    first: list[str] = []
    rest: list[str] = []
    for i in items:
        if (type(i) is dict or isinstance(i, Mapping)) and i.get(code):
            (first if str(i.get(flag)) == principal else rest).append(str(i[code]).strip())
    return (*first, *rest)


def _first(node: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if node.get(name) not in (None, ""):
            return node[name]
    return None


def read_int(value: Any) -> int | None:
    """An integer as sent: 67, "67", "3200.00" (a whole number written with places); else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    whole, dot, places = text.partition(".")
    if dot and places.strip("0") == "" and places.isdigit():
        text = whole
    try:
        return int(text)
    except ValueError:
        return None
