"""Read a 4101A `input` object: structure, required fields, amounts. Problems are findings, never exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from libs.common.money import wire_fen

from .case_facts import case_facts
from .codes import coded_fields
from .dialects import normalise
from .limits import input_limits
from .model import Finding, ParsedList, error, region_of

# Beyond the bare 4101A node set the platform needs the patient fields of 4101 and the cost nodes
# (docs/INTERFACE.md): it groups and pays the case itself.
REQUIRED_SETLINFO = ("psn_no", "mdtrt_id", "setl_id", "psn_name", "gend", "brdy", "age", "insutype", "adm_time",
                     "dscg_time", "dscg_way", "setl_begn_date", "setl_end_date")
REQUIRED_LISTS = ("diseinfo", "iteminfo", "payinfo")
OPTIONAL_LISTS = ("oprninfo", "icuinfo", "bldinfo", "opspdiseinfo")


def parse_list(fixmedins_code: str, fixmedins_name: str, body: Any) -> tuple[ParsedList | None, list[Finding]]:
    if not isinstance(body, Mapping):
        return None, [error("QC-REQ-001", "input", "input 必须是对象", "input must be a JSON object")]
    body = normalise(body)
    findings = input_limits(body, fixmedins_code) or _structure(body)
    if findings:
        return None, findings
    s = body["setlinfo"]
    items, item_problems = _items(body["iteminfo"])
    fund, fund_problems = _fund(body["payinfo"])
    stated = {k: wire_fen(s[k]) for k in ("acct_pay", "psn_cashpay", "medfee_sumamt") if s.get(k) not in (None, "")}
    findings = item_problems + fund_problems + [_bad_amount(f"setlinfo.{k}", s[k]) for k, v in stated.items()
                                                if v is None]
    if findings:
        return None, findings
    total = sum(amount for amount, _ in items)
    return ParsedList(
        fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name, body=body, setl_id=str(s["setl_id"]),
        psn_no=str(s["psn_no"]), region=region_of(fixmedins_code), period=str(s["setl_end_date"])[:7],
        discharge_date=_date(s.get("setl_end_date")), facts=case_facts(body), total_fen=total, fund_fen=fund,
        account_fen=stated.get("acct_pay") or 0, cash_fen=stated.get("psn_cashpay") or 0,
        stated_total_fen=stated.get("medfee_sumamt"), item_fen=items,
        personal_stated="acct_pay" in stated and "psn_cashpay" in stated,
        coded=tuple(coded_fields({"fixmedins_code": fixmedins_code, "input": body})),
    ), []


def _structure(body: Mapping[str, Any]) -> list[Finding]:
    found = []
    s = body.get("setlinfo")
    if not isinstance(s, Mapping):
        return [error("QC-REQ-001", "setlinfo", "缺少结算清单主信息 setlinfo", "setlinfo is missing or not an object")]
    for name in REQUIRED_SETLINFO:
        if s.get(name) in (None, ""):
            found.append(error("QC-REQ-001", f"setlinfo.{name}", f"缺少必填字段 setlinfo.{name}",
                               f"required field setlinfo.{name} is missing"))
        elif isinstance(s.get(name), (dict, list)):
            found.append(error("QC-REQ-002", f"setlinfo.{name}", f"字段 setlinfo.{name} 类型错误",
                               f"setlinfo.{name} must be a string or number"))
    for node in REQUIRED_LISTS + OPTIONAL_LISTS:
        value = body.get(node)
        required = node in REQUIRED_LISTS
        if value is None and not required:
            continue
        if not isinstance(value, list) or (required and not value):
            found.append(error("QC-REQ-001", node, f"缺少节点 {node}（须为非空数组）",
                               f"{node} must be a non-empty array" if required else f"{node} must be an array"))
        elif not all(isinstance(item, Mapping) for item in value):
            found.append(error("QC-REQ-002", node, f"{node} 的元素必须是对象", f"every {node} entry must be an object"))
    return found


_PARTS = ("claa_sumfee", "clab_amt", "fulamt_ownpay_amt", "oth_amt")


def _items(entries: list[Any]) -> tuple[tuple[tuple[int, int | None], ...], list[Finding]]:
    """Per iteminfo entry (amt, sum of its class parts or None), in fen; bad amounts as findings."""
    out, problems = [], []
    for i, item in enumerate(entries):
        amount = wire_fen(item.get("amt"))
        if amount is None:
            problems.append(_bad_amount(f"iteminfo[{i}].amt", item.get("amt")))
        parts = 0
        given = False
        for key in _PARTS:
            if key in item:
                given = True
                fen = wire_fen(item[key])
                if fen is None:
                    problems.append(_bad_amount(f"iteminfo[{i}].{key}", item[key]))
                else:
                    parts += fen
        out.append((amount or 0, parts if given else None))
    return tuple(out), problems


def _fund(entries: list[Any]) -> tuple[int, list[Finding]]:
    total, problems = 0, []
    for i, item in enumerate(entries):
        fen = wire_fen(item.get("fund_payamt"))
        if fen is None:
            problems.append(_bad_amount(f"payinfo[{i}].fund_payamt", item.get("fund_payamt")))
        else:
            total += fen
    return total, problems


def _bad_amount(path: str, value: Any) -> Finding:
    return error("QC-FEE-004", path, f"金额 {value!r} 不是两位小数的数值",
                 f"amount {value!r} is not a decimal with at most two places")


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
