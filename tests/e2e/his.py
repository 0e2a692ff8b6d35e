"""A synthetic stay as the two systems send it: the hospital's 4101A in the HIS form (no patient fields, no cost
nodes, every property present with "" for unset ones, numbers as strings) and the core system's settlement
record (2304) with the person and the money, derived from a rich synthetic list."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

PATIENT_FIELDS = ("psn_name", "gend", "brdy", "age", "insutype", "nwb_age", "nwbage")
LIST_MONEY = ("medfee_sumamt", "acct_pay", "psn_cashpay", "psn_ownpay")


def _yuan(value: Any) -> Decimal:
    return Decimal(str(value))


def settlement_record(request: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The 2304 line of a rich list's stay: its person, and money that agrees with its cost nodes."""
    s = request["input"]["setlinfo"]
    total = sum(_yuan(i["amt"]) for i in request["input"]["iteminfo"])
    fund = sum(_yuan(p["fund_payamt"]) for p in request["input"]["payinfo"])
    account = _yuan(s.get("acct_pay") or "0")
    cash = total - fund - account
    setlinfo = {"mdtrt_id": s["mdtrt_id"], "setl_id": s["setl_id"], "psn_no": s["psn_no"], "psn_name": s["psn_name"],
                "gend": str(s["gend"]), "brdy": s["brdy"], "age": f"{s['age']}.0", "insutype": s["insutype"],
                "setl_time": f"{s['setl_end_date']} 16:00:00", "medfee_sumamt": f"{total:.2f}",
                "fund_pay_sumamt": f"{fund:.2f}", "psn_part_amt": f"{account + cash:.2f}",
                "acct_pay": f"{account:.2f}", "psn_cash_pay": f"{cash:.2f}", "hosp_part_amt": "0.00"}
    return {"infno": "2304", "fixmedins_code": request["fixmedins_code"],
            "fixmedins_name": request["fixmedins_name"], "setlinfo": setlinfo | changes,
            "setldetail": [{"fund_pay_type": p["fund_pay_type"], "fund_payamt": p["fund_payamt"]}
                           for p in request["input"]["payinfo"]]}


def reversal(request: dict[str, Any]) -> dict[str, Any]:
    s = request["input"]["setlinfo"]
    return {"infno": "2305", "fixmedins_code": request["fixmedins_code"],
            "setlinfo": {"setl_id": s["setl_id"], "psn_no": s["psn_no"], "mdtrt_id": s["mdtrt_id"]}}


def his_form(request: dict[str, Any]) -> dict[str, Any]:
    """The list as a hospital system sends 4101A: no patient fields and no iteminfo/payinfo, unset properties
    as "", numbers as strings."""
    out = copy.deepcopy(request)
    s = out["input"]["setlinfo"]
    for name in PATIENT_FIELDS + LIST_MONEY:
        if name in s:
            s[name] = ""
    for name, value in list(s.items()):
        if isinstance(value, int | float) and not isinstance(value, bool):
            s[name] = str(value)
    out["input"].pop("iteminfo", None)
    out["input"].pop("payinfo", None)
    return out
