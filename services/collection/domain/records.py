"""Settlement records from the core insurance system: a stay's 2304 settlement result, or its 2305 reversal.

The record is where a case's demographics and money come from (docs/INTERFACE.md): the hospital's list (4101A)
carries the codes, the core system's record the person (``gend``, ``brdy``, ``age``, ``insutype``) and the money
(``medfee_sumamt``, ``fund_pay_sumamt``, ``psn_part_amt``, ``acct_pay``, ``psn_cash_pay``). The line format is
pinned in TEAM.md: ``{"infno": "2304", "fixmedins_code", "fixmedins_name", "setlinfo": {...}, "setldetail":
[...]}``, a reversal ``{"infno": "2305", "fixmedins_code", "setlinfo": {"setl_id", "psn_no", "mdtrt_id"}}``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from libs.common.money import wire_fen

from .case_facts import parse_day, parse_time

SETTLEMENT = "2304"
REVERSAL = "2305"
INSTITUTION = re.compile(r"H\d{11}")
MAX_ID = 30
"""setl_id, psn_no and mdtrt_id are at most 30 characters (the spec's string(30))."""


class RecordRefused(ValueError):
    """A line that is not a settlement record: the field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """One message of the core system about a stay, read: a settlement (2304) or its reversal (2305)."""

    infno: str
    fixmedins_code: str
    setl_id: str
    psn_no: str
    mdtrt_id: str
    psn_name: str
    sex: int | None
    birth_date: date | None
    age: Decimal | None  # as stated (number(4,1)); the age used is computed from the birth date when known
    insutype: str
    settled_at: datetime | None
    total_fen: int
    fund_fen: int
    personal_fen: int
    account_fen: int
    cash_fen: int
    hospital_fen: int
    digest: str  # identity of the line's content (key order aside): an identical resend changes nothing

    @property
    def is_reversal(self) -> bool:
        return self.infno == REVERSAL


def parse_record(line: Any) -> SettlementRecord:
    """A record line read, or ``RecordRefused`` naming the field. Demographic fields are read when present and
    judged by quality control when the record meets its list; only what identifies the record and its money
    are required here."""
    if not isinstance(line, Mapping):
        raise RecordRefused("", "a settlement record must be a JSON object")
    infno = _text(line.get("infno"))
    if infno not in (SETTLEMENT, REVERSAL):
        raise RecordRefused("infno", f"must be {SETTLEMENT} (settlement) or {REVERSAL} (reversal), got {infno!r}")
    code = _text(line.get("fixmedins_code"))
    if not INSTITUTION.fullmatch(code):
        raise RecordRefused("fixmedins_code", f"must be H + 11 digits, got {code!r}")
    s = line.get("setlinfo")
    if not isinstance(s, Mapping):
        raise RecordRefused("setlinfo", "must be an object")
    setl_id = _identifier(s, "setl_id", required=True)
    psn_no = _identifier(s, "psn_no", required=infno == SETTLEMENT)
    mdtrt_id = _identifier(s, "mdtrt_id", required=infno == SETTLEMENT)
    digest = hashlib.sha256(orjson.dumps(line, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if infno == REVERSAL:
        return SettlementRecord(infno, code, setl_id, psn_no, mdtrt_id, "", None, None, None, "", None, 0, 0, 0, 0,
                                0, 0, digest)
    total = _money(s, "medfee_sumamt", required=True)
    fund = _money(s, "fund_pay_sumamt", required=True)
    account = _money(s, "acct_pay")
    cash = _money(s, "psn_cash_pay")
    personal = _money(s, "psn_part_amt")
    if personal is None:
        personal = (account or 0) + (cash or 0) if account is not None or cash is not None else total - fund
    brdy = _text(s.get("brdy"))
    born = parse_day(brdy)
    if brdy and born is None:
        raise RecordRefused("setlinfo.brdy", f"{brdy!r} is not a date yyyy-MM-dd")
    return SettlementRecord(
        infno=infno, fixmedins_code=code, setl_id=setl_id, psn_no=psn_no, mdtrt_id=mdtrt_id,
        psn_name=_text(s.get("psn_name")), sex=_sex(s.get("gend")), birth_date=born, age=_decimal(s.get("age")),
        insutype=_text(s.get("insutype") or s.get("hi_type")), settled_at=parse_time(_text(s.get("setl_time"))),
        total_fen=total, fund_fen=fund, personal_fen=personal, account_fen=account or 0, cash_fen=cash or 0,
        hospital_fen=_money(s, "hosp_part_amt") or 0, digest=digest)


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value).strip()


def _identifier(s: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = _text(s.get(name))
    if required and not value:
        raise RecordRefused(f"setlinfo.{name}", "is required")
    if len(value) > MAX_ID or any(ord(c) < 32 for c in value):
        raise RecordRefused(f"setlinfo.{name}", f"must be at most {MAX_ID} printable characters")
    return value


def _money(s: Mapping[str, Any], name: str, *, required: bool = False) -> Any:
    value = s.get(name)
    if value is None or value == "":
        if required:
            raise RecordRefused(f"setlinfo.{name}", "is required")
        return None
    fen = wire_fen(value)
    if fen is None or fen < 0:
        raise RecordRefused(f"setlinfo.{name}", f"{value!r} is not a non-negative amount with two decimal places")
    return fen


def _sex(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text in ("1", "2") else None


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    try:
        number = Decimal(text) if text else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None
