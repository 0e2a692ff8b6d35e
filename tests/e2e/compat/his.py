"""How hospital information systems serialise national-interface requests: the fixtures of the compat suite.

Deployed HIS build each call from a request class holding every property of the national node set and hand it
to a general-purpose JSON library. What reaches the platform therefore has:
- every property present, unset ones ``null`` (Jackson/fastjson with null values written) or ``""`` (.NET
  string defaults);
- numbers as strings (BigDecimal.toString keeps the declared scale: "64.0", "3200.00"; .NET decimals do not);
- dates taken from date-time columns ("2026-02-01 00:00:00"), the older 4101 spelling ``hi_type``;
- indented JSON, with CRLF line ends on Windows and sometimes a UTF-8 byte-order mark;
- the whole request posted to the base URL with ``infno`` only in the body, an ``apikey`` header, and
  ``application/json;charset=UTF-8``.
The property lists come from the national field lists (``../shared/spec``) when present, else from the
project's own field table (``services/collection/domain/fields.py``), which a test checks against them.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from services.collection.domain.fields import NODES, SETLINFO, Kind

from ...support import SHARED

SPEC = SHARED / "spec"
ENVELOPE_ORDER = ("infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "recer_sys_code", "dev_no", "dev_safe_info",
                  "cainfo", "signtype", "infver", "opter_type", "opter", "opter_name", "inf_time", "fixmedins_code",
                  "fixmedins_name", "sign_no")
PATIENT_4101 = ("psn_name", "gend", "brdy", "age", "nwb_age", "ntly", "naty", "patn_cert_type", "certno", "hi_type",
                "insuplc", "act_ipt_days", "hi_setl_lv", "psn_selfpay", "psn_ownpay", "acct_pay", "psn_cashpay")
"""The older 4101 fields a province's HIS keeps sending with the list (and ``hi_type`` for ``insutype``)."""


@dataclass(frozen=True)
class Dialect:
    name: str
    unset: Any
    """What an unset property is written as: None (null) or ""."""
    scaled_numbers: bool
    """Numbers keep their declared scale ("64.0", "3200.00"), as Java's BigDecimal writes them."""
    crlf: bool
    bom: bool
    separators: tuple[str, str]


DIALECTS = (
    Dialect("java-jackson", None, scaled_numbers=True, crlf=False, bom=False, separators=(",", " : ")),
    Dialect("dotnet-newtonsoft", "", scaled_numbers=False, crlf=True, bom=True, separators=(",", ": ")),
    Dialect("java-fastjson", None, scaled_numbers=False, crlf=True, bom=False, separators=(",", ":")),
)


def _csv(name: str) -> list[dict[str, str]]:
    with (SPEC / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def setlinfo_4101a() -> tuple[str, ...]:
    """The 4101A setlinfo properties in national order."""
    if SPEC.is_dir():
        return tuple(r["field_openhis"] for r in _csv("input_4101A_setlinfo_fields.csv"))
    return tuple(n for n in SETLINFO if n not in PATIENT_4101 and n not in ("insutype", "medfee_sumamt"))


@cache
def node_fields() -> dict[str, tuple[str, ...]]:
    """The 4101A sub-nodes and the 4101 cost nodes (iteminfo, payinfo), each with its properties in order."""
    if not SPEC.is_dir():
        return {node: tuple(fields) for node, fields in NODES.items()}
    out: dict[str, list[str]] = {}
    for row in _csv("input_4101A_subnodes_fields.csv"):
        out.setdefault(row["node"], []).append(row["field"])
    for row in _csv("input_4101_fields.csv"):
        if row["node"] in ("iteminfo", "payinfo"):
            out.setdefault(row["node"], []).append(row["field"])
    return {node: tuple(fields) for node, fields in out.items()}


@cache
def date_fields() -> frozenset[str]:
    return frozenset(n for n, f in SETLINFO.items() if f.kind is Kind.DATE)


def _number(value: Any, name: str, dialect: Dialect) -> str:
    field = SETLINFO.get(name) or next((f[name] for f in NODES.values() if name in f), None)
    kind = field.kind if field else None
    if kind is Kind.MONEY:
        return f"{Decimal(str(value)):.2f}"
    if dialect.scaled_numbers and kind is Kind.AGE:
        return f"{Decimal(str(value)):.1f}"
    if dialect.scaled_numbers and kind is Kind.GRAMS:
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def _value(value: Any, name: str, dialect: Dialect) -> Any:
    if value is None or value == "":
        return dialect.unset
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(value, name, dialect)
    if name in date_fields() and isinstance(value, str) and len(value) == 10:
        return value + " 00:00:00"
    return value


def _every_property(names: tuple[str, ...], values: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    out = {name: _value(values.get(name), name, dialect) for name in names}
    for name, value in values.items():  # a province's own additions travel too
        if name not in out:
            out[name] = _value(value, name, dialect)
    return out


def envelope(request: dict[str, Any], infno: str, body: dict[str, Any], dialect: Dialect,
             rng: random.Random) -> dict[str, Any]:
    """The common envelope as an HIS fills it: every property, a fresh msgid with a random 4-digit suffix."""
    code = request["fixmedins_code"]
    stamp = request["inf_time"].replace("-", "").replace(" ", "").replace(":", "")
    values = {**{k: request.get(k) for k in ENVELOPE_ORDER}, "infno": infno,
              "msgid": f"{code}{stamp}{rng.randrange(10_000):04d}"}
    return {**{k: _value(values.get(k), k, dialect) for k in ENVELOPE_ORDER}, "input": body}


def upload_4101a(request: dict[str, Any], dialect: Dialect, rng: random.Random, *, patient: bool) -> dict[str, Any]:
    """A 4101A upload in the HIS form. ``patient``: a province that also sends the 4101 patient fields and the
    cost nodes (accepted today); without it, the national node set alone (no demographics, no iteminfo/payinfo)."""
    src = request["input"]
    s = dict(src["setlinfo"])
    names = setlinfo_4101a()
    if patient:
        s["hi_type"] = s.pop("insutype", None)
        names = names + tuple(n for n in PATIENT_4101 if n not in names)
    else:
        for name in (*PATIENT_4101, "insutype", "medfee_sumamt"):
            if name not in names:
                s.pop(name, None)
    nodes = node_fields()
    body: dict[str, Any] = {"setlinfo": _every_property(names, s, dialect)}
    for node in ("diseinfo", "oprninfo", "icuinfo", "bldinfo", "opspdiseinfo", *(("iteminfo", "payinfo")
                                                                                  if patient else ())):
        entries = src.get(node) or []
        body[node] = [_every_property(nodes[node], e, dialect) for e in entries] if entries else (
            [] if dialect.unset == "" else None)
    return envelope(request, "4101A", body, dialect, rng)


def status_4102(request: dict[str, Any], changes: list[tuple[str, str, str]], dialect: Dialect,
                rng: random.Random) -> dict[str, Any]:
    """4102 with several lists: (psn_no, setl_id, stas_type) each."""
    rows = [{"psn_no": p, "setl_id": s, "stas_type": t} for p, s, t in changes]
    return envelope(request, "4102", {"data": {"stastinfo": rows}}, dialect, rng)


def query_4103(request: dict[str, Any], psn_no: str, setl_id: str, dialect: Dialect,
               rng: random.Random) -> dict[str, Any]:
    return envelope(request, "4103", {"data": {"psn_no": psn_no, "setl_id": setl_id}}, dialect, rng)


def sign_in_9001(request: dict[str, Any], dialect: Dialect, rng: random.Random) -> dict[str, Any]:
    body = {"signIn": {"opter_no": request.get("opter") or "", "mac": "00-1A-2B-3C-4D-5E", "ip": "10.33.7.21"}}
    return envelope(request, "9001", body, dialect, rng)


def serialise(request: dict[str, Any], dialect: Dialect) -> bytes:
    """The bytes on the wire: indented, the dialect's separators and line ends, perhaps a byte-order mark."""
    text = json.dumps(request, ensure_ascii=False, indent=2, separators=dialect.separators)
    if dialect.crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if dialect.bom else b"") + text.encode("utf-8")


def headers(apikey: str) -> dict[str, str]:
    return {"apikey": apikey, "content-type": "application/json;charset=UTF-8", "accept": "application/json"}
