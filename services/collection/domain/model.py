"""Values of data collection: findings, statuses, a parsed settlement list."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .case_facts import CaseFacts
from .codes import CodedField


class Severity(enum.Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"


class ListStatus(enum.Enum):
    ACTIVE = "ACTIVE"  # checked, grouped, in force: a case
    REVOKED = "REVOKED"  # revoked by the hospital or the bureau
    PENDING = "PENDING"  # stored and acknowledged, waiting for its settlement record to be checked and grouped
    REJECTED = "REJECTED"  # failed quality control when it met its settlement record


@dataclass(frozen=True, slots=True)
class Finding:
    """One quality-control result: a rule code, its severity, the field it concerns, and why (zh, en)."""

    code: str
    severity: Severity
    field: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        """The national interface's form (``err_msg`` companions in ``output``): ``message`` is the Chinese one."""
        return {"code": self.code, "severity": self.severity.value, "field": self.field,
                "message": self.message_zh, "message_en": self.message_en}

    def to_json(self) -> dict[str, str]:
        """The stored form (findings tables, idempotent responses, staged rows): the one serialisation."""
        return {"code": self.code, "severity": self.severity.value, "field": self.field,
                "message_zh": self.message_zh, "message_en": self.message_en}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> Finding:
        return Finding(d["code"], Severity(d["severity"]), d["field"], d["message_zh"], d["message_en"])


def error(code: str, field: str, zh: str, en: str) -> Finding:
    return Finding(code, Severity.ERROR, field, zh, en)


def warning(code: str, field: str, zh: str, en: str) -> Finding:
    return Finding(code, Severity.WARNING, field, zh, en)


@dataclass(frozen=True)
class GroupRow:
    """The group of a list's revision under one scheme, as the grouping service answered."""

    scheme_id: str
    scheme_version: str
    drg: str
    adrg: str
    mdc: str
    status: str  # the grouping status name, e.g. GROUPED, UNGROUPABLE
    kind: str = "DRG"  # DRG or DIP


def scheme_kind(scheme_id: str) -> str:
    """DIP for the DIP catalogues (scheme ids starting "dip"), else DRG."""
    return "DIP" if scheme_id.lower().startswith("dip") else "DRG"


@dataclass(frozen=True, slots=True)
class CodeVerdict:
    """What the coding service said of one code."""

    status: str  # VALID / UNKNOWN / MALFORMED / RETIRED
    reason: str


Verdicts = Mapping[tuple[str, str], CodeVerdict]


class MoneySource(enum.Enum):
    SETTLEMENT_RECORD = "SETTLEMENT_RECORD"
    LIST = "LIST"


@dataclass(frozen=True, slots=True)
class Person:
    """Who the case is: from the settlement record once joined, else the list's own 4101 patient fields."""

    name: str = ""
    sex: int | None = None  # 1 male, 2 female; None when missing or not 1/2
    birth_date: date | None = None
    stated_age: int | None = None  # the age as sent (completed years)
    insutype: str = ""

    @property
    def complete(self) -> bool:
        """Enough to check and group the case: sex, an age (or a birth date) and the insurance type."""
        return self.sex is not None and (self.birth_date is not None or self.stated_age is not None) \
            and bool(self.insutype)


ItemFen = tuple[tuple[int, int | None], ...]
"""Per iteminfo entry of a list: (amt, sum of its class parts or None), in fen."""


@dataclass(frozen=True, slots=True)
class ListMoney:
    """The amounts a rich list states itself (the older 4101's iteminfo, payinfo and setlinfo amounts), in fen;
    None where the list does not give them (the HIS form gives none)."""

    item_fen: ItemFen = ()  # per iteminfo entry: (amt, sum of its class parts or None)
    item_total_fen: int | None = None  # sum of iteminfo amt
    payinfo_fund_fen: int | None = None  # sum of payinfo fund_payamt
    stated_total_fen: int | None = None  # setlinfo.medfee_sumamt
    account_fen: int | None = None  # setlinfo.acct_pay
    cash_fen: int | None = None  # setlinfo.psn_cashpay


@dataclass(frozen=True, slots=True)
class CaseMoney:
    """The money of a case, in fen: from its settlement record, or from a rich list that has no record (yet)."""

    total_fen: int
    fund_fen: int
    personal_fen: int  # the patient's own share: personal account plus cash
    account_fen: int
    cash_fen: int
    source: MoneySource


@dataclass(frozen=True, slots=True)
class ParsedList:
    """A settlement list read and normalised (one field-name dialect), ready for quality control; joined with
    its settlement record (``record_revision`` set) it is a case: person and money from the record."""

    fixmedins_code: str
    fixmedins_name: str
    body: Mapping[str, Any]  # the normalised `input` object
    setl_id: str
    psn_no: str
    mdtrt_id: str
    region: str
    period: str
    discharge_date: date | None  # setl_end_date: the settlement period's day
    admission: datetime | None
    facts: CaseFacts  # grouping inputs (sex and age from ``person``)
    coded: tuple[CodedField, ...]  # every code of the list, with its field and code system
    list_money: ListMoney
    list_person: Person  # the list's own patient fields
    person: Person  # the case's: the record's once joined, else the list's
    money: CaseMoney | None  # None: neither a record nor the list's own cost nodes
    record_revision: int | None = None  # the settlement record revision joined

    @property
    def is_case(self) -> bool:
        """Checkable and groupable as a whole: joined with its record, or a rich list complete in itself."""
        return self.record_revision is not None or (self.money is not None and self.person.complete)

    @property
    def total_fen(self) -> int:
        return self.money.total_fen if self.money else 0

    @property
    def fund_fen(self) -> int:
        return self.money.fund_fen if self.money else 0


@dataclass(frozen=True)
class StoredList:
    """A stored list as it is read: a revision of it with its findings, group, history and joined record."""

    list_id: int
    setl_list_id: str
    fixmedins_code: str
    setl_id: str
    psn_no: str
    region: str
    period: str
    status: str
    revision: int
    revision_count: int
    total_fen: int
    body: Any
    received_time: datetime
    findings: list[Finding]
    group: GroupRow | None
    history: list[tuple[str, datetime, str, int]]
    record: Any = None  # the settlement record (2304 line) the revision was joined with, when it was



def region_of(fixmedins_code: str) -> str:
    """The prefecture (6 digits ending 00) of an institution code H + county + serial."""
    county = fixmedins_code[1:7]
    return county[:4] + "00" if len(county) == 6 and county.isascii() and county.isdigit() else ""
