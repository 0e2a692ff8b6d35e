"""The national 3203 (清算申请) in the hospitals' door: a hospital asks for the clearing of a period and is
answered from the settlement service's stored run, never by computing anything here.

The hospital's region is its prefecture (``region_of`` its institution code), the region whose runs settle it.
The national documents give 3203's name, not a field list medpay could check against (``../shared/spec`` has
none), so the door accepts what hospital systems send for it, under ``input.data`` (or directly under
``input``):

| field | meaning |
|---|---|
| ``clr_ym`` / ``setl_ym`` | ``yyyyMM`` or ``yyyy-MM`` (a month: its advance), ``yyyy`` (a year: its clearing) |
| ``begndate``, ``enddate`` | instead of ``clr_ym``: the first and last day of one calendar month or year |
| ``clr_type`` | clearing category (清算类别), optional; answered back |
| ``fund_appy_sum`` | optional: the fund amount the hospital applies for, in yuan; the answer says how it differs |

The answer (``output.clrinfo``): the run (``setl_run``, its type ``advance`` or ``clearing``), the hospital's
statement (``cases``, ``points``, ``cmi``, ``gross``, ``assessed``, ``advances``, ``adjustments``, ``deductions``,
``balance``; yuan strings with two places) and, with ``fund_appy_sum``, ``appy_diff`` = applied - balance. A
period with no finished run, or a run without cases of the hospital, is refused (``infcode`` -1) naming why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb

from libs.common.dates import Period
from libs.common.money import fen_text, wire_fen

from ..adapters.settlement_client import SettlementClient
from ..domain.case_facts import parse_day
from ..domain.model import Finding, error, region_of
from .transactions import Call, Handler

_YM = re.compile(r"(\d{4})-?(\d{2})?")
RUN_TYPES = {pb.SETTLEMENT_RUN_TYPE_ADVANCE: "advance", pb.SETTLEMENT_RUN_TYPE_CLEARING: "clearing"}


def clearing(settlement: SettlementClient) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        body = call.envelope.body if isinstance(call.envelope.body, Mapping) else {}
        inner = body.get("data")
        data: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
        period = requested_period(data)
        if isinstance(period, Finding):
            return call.fail([period])
        applied = data.get("fund_appy_sum")
        applied_fen = wire_fen(applied) if applied not in (None, "") else None
        if applied not in (None, "") and applied_fen is None:
            return call.fail([error("QC-REQ-001", "data.fund_appy_sum", "fund_appy_sum 须为金额（元，至多两位小数）",
                                    "fund_appy_sum must be an amount of yuan with at most two places")])
        code = call.envelope.fixmedins_code
        region = region_of(code)
        settled = await settlement.settled(region, period, code)
        if settled is None:
            return call.fail([error("QC-CLR-001", "data.clr_ym", f"统筹区 {region} 的 {period} 尚无已完成的结算",
                                    f"{period} of region {region} has no finished settlement run yet")])
        if settled.statement is None:
            return call.fail([error("QC-CLR-002", "data.clr_ym", f"{period} 的结算中无本机构病例",
                                    f"the settlement run of {period} has no cases of {code}")])
        return call.ok({"clrinfo": answer(settled.run, settled.statement, period, data, applied_fen)})
    return handle


def requested_period(data: Mapping[str, Any]) -> Period | Finding:
    """The period named by ``clr_ym`` (or ``setl_ym``), else by ``begndate``/``enddate`` covering exactly one
    calendar month or year."""
    text = str(data.get("clr_ym") or data.get("setl_ym") or "").strip()
    if text:
        matched = _YM.fullmatch(text)
        try:
            if matched is None:
                raise ValueError
            return Period(int(matched[1]), int(matched[2]) if matched[2] else None)
        except ValueError:
            return error("QC-REQ-001", "data.clr_ym", "clr_ym 须为 yyyyMM、yyyy-MM 或 yyyy",
                               "clr_ym must be yyyyMM, yyyy-MM or yyyy")
    begin, end = parse_day(data.get("begndate")), parse_day(data.get("enddate"))
    if begin is None or end is None:
        return error("QC-REQ-001", "data.clr_ym", "须给出 clr_ym，或 begndate 与 enddate",
                           "clr_ym (or begndate and enddate) is required")
    for period in (Period(begin.year, begin.month), Period(begin.year)):
        if (period.first_day, period.last_day) == (begin, end):
            return period
    return error("QC-REQ-001", "data.begndate", "begndate 至 enddate 须恰为一个自然月或一年",
                       "begndate to enddate must be exactly one calendar month or one year")




def _yuan(money: common_pb2.Money) -> str:
    return fen_text(money.fen)


def answer(run: pb.SettlementRun, s: pb.HospitalStatement, period: Period, data: Mapping[str, Any],
           applied_fen: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clr_appy_evt_id": f"{run.name.rsplit('/', 1)[-1]}-{s.fixmedins_code}",
        "fixmedins_code": s.fixmedins_code, "clr_ym": str(period), "clr_type": str(data.get("clr_type") or ""),
        "setl_run": run.name, "setl_run_type": RUN_TYPES.get(run.run_type, ""), "point_value": run.point_value,
        "cases": s.cases, "points": s.points, "cmi": s.cmi, "gross": _yuan(s.gross), "assessed": _yuan(s.assessed),
        "advances": _yuan(s.advances), "adjustments": _yuan(s.adjustments), "deductions": _yuan(s.deductions),
        "balance": _yuan(s.balance), "document_digest": s.document_digest,
    }
    if applied_fen is not None:
        out["fund_appy_sum"] = fen_text(applied_fen)
        out["appy_diff"] = fen_text(applied_fen - s.balance.fen)
    return out
