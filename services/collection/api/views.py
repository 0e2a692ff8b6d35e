"""The 4103 answer: a stored list in the national output nodes, with the platform's own facts beside them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from libs.common.money import fen_text
from libs.national.fees import FeeLine

from ..domain.model import StoredList

NATIONAL_NODES = ("diseinfo", "oprninfo", "icuinfo", "bldinfo", "opspdiseinfo", "iteminfo", "payinfo")
_STAS_TYPE = {"ACTIVE": "1", "REVOKED": "0"}
RECORD_PERSON = ("psn_name", "gend", "brdy", "age", "insutype")
"""The person's fields a 4103 answer takes from the settlement record (hospital systems do not send them)."""
RECORD_MONEY = {"medfee_sumamt": "medfee_sumamt", "acct_pay": "acct_pay", "psn_cash_pay": "psn_cashpay"}
"""Settlement record amount -> the 4101 setlinfo field that carries it."""


def stored_list_view(s: StoredList, fee_lines: Iterable[FeeLine] = ()) -> dict[str, Any]:
    """``setlinfo`` and the list nodes at the top (as a national client reads a 4103 output), ``setlinfo.stas_type``
    from the list's status, the person, the amounts and ``payinfo`` (by fund) from the stay's settlement record
    once joined; then the platform's list id, status, revisions, group, warnings and history.

    ``iteminfo`` is the list's own where it sent one (the older 4101 form); else the record's where the core system
    adds one; else the stay's current fee details (2301, ``fee_lines``) summed by fee category (``amt`` only: the
    details carry no class split, so the class amounts are unset, ``""``)."""
    body: Mapping[str, Any] = s.body if isinstance(s.body, Mapping) else {}
    setlinfo = dict(body.get("setlinfo") or {})
    setlinfo.setdefault("fixmedins_code", s.fixmedins_code)
    if s.status in _STAS_TYPE:
        setlinfo["stas_type"] = _STAS_TYPE[s.status]
    nodes = {node: list(body.get(node) or []) for node in NATIONAL_NODES}
    record = s.record.get("setlinfo") if isinstance(s.record, Mapping) else None
    if isinstance(record, Mapping):  # the person and the money of the stay come from its settlement record
        for name in RECORD_PERSON:
            if record.get(name) not in (None, ""):
                setlinfo[name] = record[name]
        for theirs, ours in RECORD_MONEY.items():
            if record.get(theirs) not in (None, ""):
                setlinfo[ours] = record[theirs]
        if not nodes["payinfo"]:
            nodes["payinfo"] = [{"fund_pay_type": d.get("fund_pay_type", ""), "fund_payamt": d.get("fund_payamt", "")}
                                for d in s.record.get("setldetail") or [] if isinstance(d, Mapping)]
        if not nodes["iteminfo"]:
            nodes["iteminfo"] = [dict(i) for i in s.record.get("iteminfo") or [] if isinstance(i, Mapping)]
    if not nodes["iteminfo"]:
        nodes["iteminfo"] = items_of(fee_lines)
    return {
        "setlinfo": setlinfo, **nodes,
        "setl_list_id": s.setl_list_id, "fixmedins_code": s.fixmedins_code, "setl_id": s.setl_id,
        "psn_no": s.psn_no, "status": s.status, "revision": s.revision, "revision_count": s.revision_count,
        "region": s.region, "period": s.period, "total": fen_text(s.total_fen),
        "group": dataclasses.asdict(s.group) if s.group else None,
        "warnings": [f.as_dict() for f in s.findings],
        "history": [{"status": st, "time": t.isoformat(), "reason": r, "revision": rev} for st, t, r, rev in s.history],
    }


def items_of(lines: Iterable[FeeLine]) -> list[dict[str, str]]:
    """``iteminfo`` from fee details: per fee category (``med_chrgitm``, in code order) the sum of its lines
    (refund lines negative); the class amounts (甲类, 乙类, 自费, other) are unknown from details and left unset."""
    by_category: dict[str, int] = {}
    for line in lines:
        by_category[line.category] = by_category.get(line.category, 0) + line.amount
    return [{"med_chrgitm": category, "amt": fen_text(amount), "claa_sumfee": "", "clab_amt": "",
             "fulamt_ownpay_amt": "", "oth_amt": ""} for category, amount in sorted(by_category.items())]
