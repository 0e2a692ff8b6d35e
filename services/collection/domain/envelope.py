"""The national-interface envelope (PRIMER section 3): checking requests, building responses."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from .model import Finding, error

TRANSACTIONS = {"9001": "签到", "4101A": "医疗保障基金结算清单信息上传", "4102": "医疗保障基金结算清单状态修改",
                "4103": "医疗保障基金结算清单信息查询"}
INSTITUTION = re.compile(r"H\d{11}")
INF_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class Envelope:
    infno: str
    msgid: str
    fixmedins_code: str
    fixmedins_name: str
    inf_time: str
    body: Any  # the `input` object


def read_envelope(request: Any, path_infno: str | None) -> tuple[Envelope | None, list[Finding]]:
    """Check the envelope; the infno comes from the URL path or the body (they must agree when both are given)."""
    if not isinstance(request, Mapping):
        return None, [error("ENV-000", "", "请求体必须是 JSON 对象", "the request body must be a JSON object")]
    found: list[Finding] = []
    infno = str(request.get("infno") or path_infno or "")
    if path_infno and request.get("infno") and str(request["infno"]) != path_infno:
        found.append(error("ENV-001", "infno", f"交易编号 {request['infno']} 与地址 {path_infno} 不一致",
                           f"infno {request['infno']} differs from the URL's {path_infno}"))
    elif infno not in TRANSACTIONS:
        found.append(error("ENV-001", "infno", f"不支持的交易编号 {infno!r}",
                           f"unknown transaction {infno!r}; supported: {', '.join(TRANSACTIONS)}"))
    code = request.get("fixmedins_code")
    if not isinstance(code, str) or not INSTITUTION.fullmatch(code):
        found.append(error("ENV-002", "fixmedins_code", "定点医药机构编号须为 H + 11 位数字",
                           f"fixmedins_code must be H + 11 digits, got {code!r}"))
        code = ""
    msgid = request.get("msgid")
    if not isinstance(msgid, str) or len(msgid) != 30 or not msgid[12:].isdigit() or (code and msgid[:12] != code):
        found.append(error("ENV-003", "msgid", "报文ID须为30位：机构编号(12)+yyyyMMddHHmmss+4位流水号",
                           f"msgid must be 30 characters: fixmedins_code + yyyyMMddHHmmss + 4-digit sequence, "
                           f"got {msgid!r}"))
    inf_time = request.get("inf_time")
    if not isinstance(inf_time, str) or not _is_time(inf_time):
        found.append(error("ENV-004", "inf_time", "交易时间格式须为 yyyy-MM-dd HH:mm:ss",
                           f"inf_time must be 'yyyy-MM-dd HH:mm:ss', got {inf_time!r}"))
    body = request.get("input")
    if not isinstance(body, Mapping):
        found.append(error("ENV-005", "input", "缺少 input 对象", "input must be a JSON object"))
    if found:
        return None, found
    return Envelope(infno, str(msgid), str(code), str(request.get("fixmedins_name") or ""), str(inf_time), body), []


def content_digest(infno: str, fixmedins_code: str, body: Any) -> str:
    """What makes two uploads "the same content": transaction, institution and input, key order aside."""
    canonical = orjson.dumps({"infno": infno, "fixmedins_code": fixmedins_code, "input": body},
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def error_message(findings: list[Finding]) -> str:
    """The err_msg of a rejection: every failing field and rule, as in docs/INTERFACE.md."""
    return "; ".join(f"{f.field}: {f.message_en} ({f.code})" if f.field else f"{f.message_en} ({f.code})"
                     for f in findings)


def stamp(moment: datetime) -> str:
    """yyyyMMddHHmmssSSS, the response time format."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _is_time(value: str) -> bool:
    try:
        datetime.strptime(value, INF_TIME)
    except ValueError:
        return False
    return True
