"""The case feed's values: a collected case as its consumers read it, and the events that change it.

A case is one revision of a list with its groups and money. Every change of a case (accepted, revised,
regrouped, revoked, reactivated, its settlement record changed) is an event carrying the whole case after the
change, so "the cases as of sequence S" is the last event of each list up to S: nothing else is needed to
reproduce a run.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.common.remembered import Remembered

from .case_facts import parse_time
from .model import GroupRow, MoneySource, ParsedList


class EventKind(enum.Enum):
    ACCEPTED = "ACCEPTED"
    REVISED = "REVISED"
    REGROUPED = "REGROUPED"
    REVOKED = "REVOKED"
    REACTIVATED = "REACTIVATED"
    RECORD_CHANGED = "RECORD_CHANGED"


@dataclass(frozen=True, slots=True)
class FeedCase:
    """One revision of a list as the payment, evaluation and review functions read it."""

    setl_list_id: str
    revision: int
    status: str  # ACTIVE / REVOKED
    fixmedins_code: str
    hospital_level: int  # 1-3; 0 when the institution registry does not know it
    region: str
    period: str
    setl_id: str
    psn_no: str
    mdtrt_id: str
    admission_date: date | None
    discharge_date: date | None
    los_days: int | None
    discharge_way: str
    department: str
    attending_doctor: str
    sex: int | None
    age_years: int | None
    age_days: int | None
    birth_weight_g: int | None
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...]
    groups: tuple[GroupRow, ...]  # most recently grouped first
    total_fen: int
    fund_fen: int
    personal_fen: int
    insurance_type: str
    money_source: MoneySource


@dataclass(frozen=True, slots=True)
class CaseEvent:
    sequence: int
    kind: EventKind
    event_time: datetime
    case: FeedCase


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events of one read, and the cursor after it (every event of the read's region up to it was read)."""

    events: tuple[CaseEvent, ...]
    resume_after: int
    head: int


CASE_COLUMNS = ("fixmedins_code", "hospital_level", "region", "period", "setl_id", "psn_no", "mdtrt_id", "adm_date",
                "dscg_date", "los_days", "dscg_way", "dept", "doctor", "sex", "age_years", "age_days", "birth_weight_g",
                "diagnoses", "procedures", "groups", "total_fen", "fund_fen", "personal_fen", "insutype",
                "money_source")
"""The feed columns of a list that its content decides, in the order of ``case_values``."""


def case_columns(parsed: ParsedList, groups: Sequence[GroupRow], hospital_level: int) -> dict[str, Any]:
    """The feed columns of a list that its content decides (all but the list id, revision and status, which the
    storing statement knows): person and money from its settlement record once joined, else from the list
    (a pending list has no money yet: zeros)."""
    case = dict(zip(CASE_COLUMNS, case_values(parsed, [group_json(g) for g in groups], hospital_level), strict=True))
    case["diagnoses"], case["procedures"] = list(case["diagnoses"]), list(case["procedures"])
    return case


def case_values(parsed: ParsedList, groups: Any, hospital_level: int) -> tuple[Any, ...]:
    """``case_columns`` as a row in the order of ``CASE_COLUMNS``, its groups as given (their JSON, or the text of
    it), its codes as tuples: what a bulk import COPYs, without a dictionary and two lists per list."""
    s: Mapping[str, Any] = parsed.body["setlinfo"]
    f = parsed.facts
    admitted, discharged = parse_time(s.get("adm_time")), parse_time(s.get("dscg_time"))
    money = parsed.money
    return (parsed.fixmedins_code, hospital_level, parsed.region, parsed.period, parsed.setl_id, parsed.psn_no,
            _text(s.get("mdtrt_id")), shared_day(admitted.date()) if admitted else None,
            shared_day(discharged.date()) if discharged else None, f.los_days, f.discharge_type, f.dept,
            _text(s.get("chfpdr_code")), f.sex, f.age_years, f.age_days, f.birth_weight_g, f.diagnoses,
            f.procedures, groups, money.total_fen if money else 0, money.fund_fen if money else 0,
            money.personal_fen if money else 0, parsed.person.insutype,
            money.source.value if money else _LIST_SOURCE)


_LIST_SOURCE = MoneySource.LIST.value
def _same(day: date) -> date:
    return day


_days: Remembered[date, date] = Remembered(_same, most=20_000)


def shared_day(day: date) -> date:
    """The one ``date`` object of its day (in this process): a bulk import's worker pickles a chunk's rows, where
    a date repeated by the same object is a back-reference, and a date object a call of its constructor when it is
    unpickled (each of a row's three dates cost more to pickle than the rest of its feed case). Days are few (a
    file's lists span months); the table is bounded."""
    return _days[day]


def group_json(g: GroupRow) -> dict[str, str]:
    return {"scheme_id": g.scheme_id, "scheme_version": g.scheme_version, "kind": g.kind, "drg": g.drg,
            "adrg": g.adrg, "mdc": g.mdc, "status": g.status}


def group_of_json(d: Mapping[str, Any]) -> GroupRow:
    return GroupRow(d["scheme_id"], d["scheme_version"], d["drg"], d["adrg"], d["mdc"], d["status"],
                    d.get("kind", "DRG"))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
