"""Values of data collection: findings, statuses, a parsed settlement list."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .case_facts import CaseFacts
from .codes import CodedField


class Severity(enum.Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"


class ListStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class Finding:
    """One quality-control result: a rule code, its severity, the field it concerns, and why (zh, en)."""

    code: str
    severity: Severity
    field: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity.value, "field": self.field,
                "message": self.message_zh, "message_en": self.message_en}


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


@dataclass(frozen=True, slots=True)
class ParsedList:
    """A settlement list read and normalised (one field-name dialect), ready for quality control."""

    fixmedins_code: str
    fixmedins_name: str
    body: Mapping[str, Any]  # the normalised `input` object
    setl_id: str
    psn_no: str
    region: str
    period: str
    discharge_date: date | None
    facts: CaseFacts
    total_fen: int
    fund_fen: int
    account_fen: int
    cash_fen: int
    stated_total_fen: int | None  # setlinfo.medfee_sumamt when given
    item_fen: tuple[tuple[int, int | None], ...]  # per iteminfo entry: (amt, sum of its class parts or None)
    coded: tuple[CodedField, ...]  # every code of the list, with its field and code system
    personal_stated: bool         # acct_pay and psn_cashpay both given: payments can be balanced


def region_of(fixmedins_code: str) -> str:
    """The prefecture (6 digits ending 00) of an institution code H + county + serial."""
    county = fixmedins_code[1:7]
    return county[:4] + "00" if len(county) == 6 and county.isdigit() else ""
