"""Values of smart review: categories, stages, severities, a stay with its fee details, flags.

Fee lines are ``libs.national.fees.FeeLine``: quantities and unit prices in exact millionths, amounts in fen, so
that ``cnt x pric`` and day totals are exact without ``Decimal`` on the hot path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple

from libs.common.money import fen_text
from libs.national.fees import FeeLine

__all__ = ["Category", "FeeLine", "Flag", "Group", "Hit", "LineRef", "Severity", "Stage", "Stay"]



class Category(enum.Enum):
    """The categories of CONTRACT.md; every rule declares exactly one."""

    SPLIT_ADMISSION = "split_admission"
    RESTRICTED_SEX = "restricted_sex"
    RESTRICTED_AGE = "restricted_age"
    DUPLICATE_CHARGE = "duplicate_charge"
    EXCESSIVE_QUANTITY = "excessive_quantity"
    UNBUNDLED_CHARGE = "unbundled_charge"
    UPCODING = "upcoding"
    LOW_STANDARD_ADMISSION = "low_standard_admission"
    OVER_LONG_STAY = "over_long_stay"
    DATA_QUALITY = "data_quality"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Stage(enum.Enum):
    """When a rule runs: reminders before (事前), review during a stay or at settlement (事中), audits after (事后)."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


@dataclass(frozen=True, slots=True)
class Group:
    """The DRG a stay groups to, as far as the rules need it: ``severity`` is the DRG's last character."""

    drg: str
    adrg: str
    mdc: str

    @property
    def severity(self) -> str:
        return self.drg[3:4]

    @property
    def medical(self) -> bool:
        """A medical (内科) ADRG: CHS-DRG ADRG codes with second letter R-Z are neither surgical nor procedural."""
        return len(self.adrg) >= 2 and "R" <= self.adrg[1] <= "Z"


@dataclass(frozen=True, slots=True)
class Stay:
    """What the rules read of one stay: the settlement list (joined with its settlement record where the list is
    HIS-form) and its fee details. Unknown values are ``None`` or empty; the rules that need them stay quiet.

    ``category_fen`` are the list's fee categories (``iteminfo``) in fen, ``None`` when the list has none;
    ``total_fen`` the stay's total cost (the settlement record's ``medfee_sumamt``, else the list's).
    ``age_years`` is the age at admission from the birth date; ``stated_age`` the age the list or record states.
    ``has_details`` says fee details arrived (a stay may have none yet); ``detail_problems`` are the fee lines that
    could not be read, in words (the line is left out of ``details``).
    """

    fixmedins_code: str
    setl_id: str
    mdtrt_id: str
    psn_no: str
    sex: int | None
    age_years: int | None
    stated_age: int | None
    admitted: datetime | None
    discharged: datetime | None
    discharge_way: str
    dept: str
    doctor: str
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...]
    total_fen: int | None
    category_fen: tuple[tuple[str, int], ...] | None
    details: tuple[FeeLine, ...] = ()
    has_details: bool = False
    detail_problems: tuple[str, ...] = ()
    group: Group | None = None
    birth: date | None = None
    hospital_level: int = 0  # the institution's level, 1-3; 0 unknown (peer comparisons then pool all levels)

    def with_details(self, details: tuple[FeeLine, ...], problems: tuple[str, ...], has_details: bool) -> Stay:
        """The stay with its fee details (``dataclasses.replace`` costs twice as much, once a stay in a batch)."""
        values = list(_stay_values(self))
        values[_DETAILS:_DETAILS + 3] = details, has_details, problems
        return Stay(*values)

    def with_group(self, group: Group, hospital_level: int) -> Stay:
        values = list(_stay_values(self))
        values[_GROUP] = group
        values[_LEVEL] = hospital_level
        return Stay(*values)

    @property
    def los_days(self) -> int | None:
        """Discharge date minus admission date; a same-day stay counts 1 (PRIMER section 3)."""
        if self.admitted is None or self.discharged is None:
            return None
        days = (self.discharged.date() - self.admitted.date()).days
        return max(days, 1) if days >= 0 else None

    @property
    def on(self) -> date | None:
        """The date rule effectiveness is judged on: the discharge date, else (a stay in progress) admission."""
        moment = self.discharged or self.admitted
        return moment.date() if moment else None

    @property
    def age(self) -> int | None:
        """The patient's age at admission: from the birth date where it is known (CONTRACT: "age at admission"),
        else the age the list or record states."""
        return self.age_years if self.age_years is not None else self.stated_age


_STAY_FIELDS = tuple(f.name for f in fields(Stay))
_stay_values = attrgetter(*_STAY_FIELDS)
_DETAILS, _GROUP, _LEVEL = (_STAY_FIELDS.index(name) for name in ("details", "group", "hospital_level"))
assert _STAY_FIELDS[_DETAILS:_DETAILS + 3] == ("details", "has_details", "detail_problems")


class LineRef(NamedTuple):
    """A fee line a flag concerns: ``role`` 1 the violating item, 2 an item involved (3101's ``vola_item_type``)."""

    sn: str
    role: int
    amount: int


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule function reports: the stay concerned, the money at stake (fen), the evidence and the lines."""

    stay: Stay
    amount: int
    evidence: str
    lines: tuple[LineRef, ...] = ()
    related_setl_id: str = ""


@dataclass(frozen=True, slots=True)
class Flag:
    """A hit stamped with the rule that found it: CONTRACT.md's flag line, plus the lines for 3101."""

    fixmedins_code: str
    setl_id: str
    mdtrt_id: str
    psn_no: str
    rule_id: str
    rule_name: str
    rule_version: str
    category: Category
    severity: Severity
    amount: int
    evidence: str
    lines: tuple[LineRef, ...] = ()
    related_setl_id: str = ""

    def contract_line(self) -> dict[str, str]:
        """The flag as CONTRACT.md's output line."""
        return {"fixmedins_code": self.fixmedins_code, "setl_id": self.setl_id, "rule_id": self.rule_id,
                "rule_version": self.rule_version, "category": self.category.value,
                "severity": self.severity.value, "amount": fen_text(self.amount), "evidence": self.evidence}
