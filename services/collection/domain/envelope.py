"""The national-interface envelope (PRIMER section 3): reading requests, building responses.

Every request a hospital sends is read here first: the JSON itself (size of nesting, a byte-order mark some
systems write), then the envelope's own fields (``infno``, ``msgid``, ``fixmedins_code``, ``inf_time``, ``input``)
and their limits. Problems are findings (ENV-xxx), never exceptions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from .fields import ENVELOPE, MAX_DEPTH, Kind
from .limits import MAX_FINDINGS, object_limits, show
from .model import Finding, error

INSTITUTION = re.compile(r"H\d{11}")
INF_TIME = "%Y-%m-%d %H:%M:%S"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Envelope:
    infno: str
    msgid: str
    fixmedins_code: str
    fixmedins_name: str
    inf_time: str
    body: Any  # the `input` object


def read_json(raw: bytes) -> tuple[Any, list[Finding]]:
    """A request body as JSON (a UTF-8 byte-order mark tolerated), at most ``MAX_DEPTH`` levels deep."""
    try:
        value = orjson.loads(raw[3:] if raw.startswith(_BOM) else raw)
    except orjson.JSONDecodeError as bad:
        return None, [error("ENV-000", "", "请求体不是合法 JSON", f"request body is not valid JSON: {bad}")]
    if nesting(value) > MAX_DEPTH:
        return None, [error("ENV-000", "", f"JSON 嵌套超过 {MAX_DEPTH} 层",
                            f"the JSON is nested deeper than {MAX_DEPTH} levels")]
    return value, []


def nesting(value: Any) -> int:
    """How deep objects and arrays nest in ``value`` (a scalar is 0); stops counting past ``MAX_DEPTH``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def read_envelope(request: Any, path_infno: str | None, known: Collection[str] = ("9001", "4101A", "4102", "4103"),
                  *, deep: bool = True) -> tuple[Envelope | None, list[Finding]]:
    """Check the envelope; the infno comes from the URL path or the body (they must agree when both are given).

    ``known`` are the transactions this door serves (the keys of its dispatch table). ``deep=False`` leaves
    how deep ``input`` nests to the caller (the bulk import's one pass over a list reads flat lists only, and
    reads the envelope again, deeply, for any other)."""
    if not isinstance(request, Mapping):
        return None, [error("ENV-000", "", "请求体必须是 JSON 对象", "the request body must be a JSON object")]
    found: list[Finding] = []
    body_infno = request.get("infno")
    infno = str(body_infno or path_infno or "")
    if path_infno and body_infno and str(body_infno) != path_infno:
        found.append(error("ENV-001", "infno", f"交易编号 {show(body_infno)} 与地址 {show(path_infno)} 不一致",
                           f"infno {show(body_infno)} differs from the URL's {show(path_infno)}"))
    elif infno not in known:
        found.append(error("ENV-001", "infno", f"不支持的交易编号 {show(infno)}",
                           f"unknown transaction {show(infno)}; supported: {', '.join(known)}"))
    code = request.get("fixmedins_code")
    if not isinstance(code, str) or not INSTITUTION.fullmatch(code):
        found.append(error("ENV-002", "fixmedins_code", "定点医药机构编号须为 H + 11 位数字",
                           f"fixmedins_code must be H + 11 digits, got {show(code)}"))
        code = ""
    msgid = request.get("msgid")
    if not (isinstance(msgid, str) and len(msgid) == 30 and msgid.isascii() and msgid[12:].isdigit()
            and (not code or msgid[:12] == code)):
        found.append(error("ENV-003", "msgid", "报文ID须为30位：机构编号(12)+yyyyMMddHHmmss+4位流水号",
                           f"msgid must be 30 characters: fixmedins_code + yyyyMMddHHmmss + 4-digit sequence, "
                           f"got {show(msgid)}"))
    inf_time = request.get("inf_time")
    if not isinstance(inf_time, str) or not _is_time(inf_time):
        found.append(error("ENV-004", "inf_time", "交易时间格式须为 yyyy-MM-dd HH:mm:ss",
                           f"inf_time must be 'yyyy-MM-dd HH:mm:ss', got {show(inf_time)}"))
    body = request.get("input")
    if not isinstance(body, Mapping):
        found.append(error("ENV-005", "input", "缺少 input 对象", "input must be a JSON object"))
    elif deep and nesting(body) > MAX_DEPTH - 1:
        found.append(error("ENV-005", "input", f"input 嵌套超过 {MAX_DEPTH} 层",
                           f"input is nested deeper than {MAX_DEPTH} levels"))
    if not _plain_fields(request):
        found += [error("ENV-006", f.field, f.message_zh, f.message_en) for f in object_limits(
            {k: v for k, v in request.items() if k in ENVELOPE and v is not None and v != ""}, ENVELOPE, "")]
    if found:
        return None, found
    name = request.get("fixmedins_name")
    return Envelope(infno, str(msgid), str(code), name if isinstance(name, str) else "", str(inf_time), body), []


def content_digest(infno: str, fixmedins_code: str, body: Any) -> str:
    """What makes two uploads "the same content": transaction, institution and input, key order aside."""
    canonical = orjson.dumps({"infno": infno, "fixmedins_code": fixmedins_code, "input": body},
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def error_message(findings: list[Finding]) -> str:
    """The err_msg of a rejection: every failing field and rule (the first ``MAX_FINDINGS``), as in
    docs/INTERFACE.md."""
    shown = findings[:MAX_FINDINGS + 1]  # the +1 is the count of the rest, when the list was bounded
    return "; ".join(f"{f.field}: {f.message_en} ({f.code})" if f.field else f"{f.message_en} ({f.code})"
                     for f in shown)


def stamp(moment: datetime) -> str:
    """yyyyMMddHHmmssSSS, the response time format."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


_LONGEST = {name: f.size if f.kind in (Kind.ID, Kind.TEXT) else 40 for name, f in ENVELOPE.items()}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def _plain_fields(request: Mapping[str, Any]) -> bool:
    """Every envelope field a short text without control characters: within the limits (``object_limits``
    names what is not, the uncommon case). The texts are searched for a control character at once (a search
    each cost more than the rest of reading the envelope)."""
    texts = []
    for name, value in request.items():
        longest = _LONGEST.get(name)
        if longest is None or value is None or value == "":
            continue
        if type(value) is not str or len(value) > longest:
            return False
        texts.append(value)
    return not _CONTROL.search("".join(texts))


def _is_time(value: str) -> bool:
    if _CANONICAL_TIME.fullmatch(value):  # the common case, without strptime; what it refuses is judged below
        try:
            datetime.fromisoformat(value)
            return True
        except ValueError:
            pass
    try:
        datetime.strptime(value, INF_TIME)
    except ValueError:
        return False
    return True
