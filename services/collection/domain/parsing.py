"""Read a 4101A `input` object: structure, required fields, amounts. Problems are findings, never exceptions.

What a list must carry is what the national 4101A node set requires and the platform cannot do without: the
identifiers that join it to its settlement record (``psn_no``, ``mdtrt_id``, ``setl_id``), the stay
(``adm_time``, ``dscg_time``, ``dscg_way``, ``dscg_caty``), the settlement period (``setl_begn_date``,
``setl_end_date``) and its diagnoses. The person and the money come from the settlement record
(docs/INTERFACE.md): hospital systems send no demographics and no ``iteminfo``/``payinfo``. Where a list does
carry the older 4101's patient fields or cost nodes they are read too: a list complete in itself is checked and
grouped without waiting for its record, and every list is cross-checked against its record when they meet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import chain
from operator import itemgetter
from typing import Any

from libs.common.money import wire_fen

from .case_facts import list_facts, parse_day, parse_time, read_int
from .codes import list_codes
from .dialects import normalise
from .limits import checked_form, input_limits
from .model import CaseMoney, Finding, ItemFen, ListMoney, MoneySource, ParsedList, Person, error, region_of
from .plain_input import in_money_form

REQUIRED_SETLINFO = ("psn_no", "mdtrt_id", "setl_id", "adm_time", "dscg_time", "dscg_way", "dscg_caty",
                     "setl_begn_date", "setl_end_date")
PATIENT_FIELDS = ("psn_name", "gend", "brdy", "age", "insutype", "nwb_age", "nwb_bir_wt")
"""The older 4101's patient fields: optional, but read (and judged) where a list carries them."""
REQUIRED_LISTS = ("diseinfo",)
OPTIONAL_LISTS = ("oprninfo", "icuinfo", "bldinfo", "opspdiseinfo", "iteminfo", "payinfo")


def parse_list(fixmedins_code: str, fixmedins_name: str, body: Any) -> tuple[ParsedList | None, list[Finding]]:
    if not isinstance(body, Mapping):
        return None, [error("QC-REQ-001", "input", "input 必须是对象", "input must be a JSON object")]
    checked = checked_form(body, fixmedins_code)  # one pass for the common list; the precise path else
    if checked is not None:
        return parse_checked(fixmedins_code, fixmedins_name, checked)
    body = normalise(body)
    findings = input_limits(body, fixmedins_code)
    if findings:
        return None, findings
    return parse_checked(fixmedins_code, fixmedins_name, body)


def parse_checked(fixmedins_code: str, fixmedins_name: str, body: dict[str, Any]) -> tuple[ParsedList | None,
                                                                                           list[Finding]]:
    """A list already in the internal form and within its input limits (``limits.checked_form``, or
    ``normalise`` and ``input_limits``)."""
    if not _well_formed(body):  # the precise check only where the quick one doubts
        findings = _structure(body)
        if findings:
            return None, findings
    s = body["setlinfo"]
    item_entries, fund_entries = body.get("iteminfo"), body.get("payinfo")
    items, item_total, item_problems = _items(item_entries or [])
    fund, fund_problems = _fund(fund_entries or [])
    stated = {k: wire_fen(s[k]) for k in ("acct_pay", "psn_cashpay", "medfee_sumamt") if s.get(k) not in (None, "")}
    findings = item_problems + fund_problems + [_bad_amount(f"setlinfo.{k}", s[k]) for k, v in stated.items()
                                                if v is None]
    if findings:
        return None, findings
    list_money = ListMoney(
        item_fen=items, item_total_fen=item_total if item_entries else None,
        payinfo_fund_fen=fund if fund_entries else None, stated_total_fen=stated.get("medfee_sumamt"),
        account_fen=stated.get("acct_pay"), cash_fen=stated.get("psn_cashpay"))
    person = list_person(s)
    admitted = parse_time(s.get("adm_time"))
    facts = list_facts(body, admitted, sex=person.sex, age_years=person.stated_age, birth_date=person.birth_date)
    return ParsedList(
        fixmedins_code=fixmedins_code, fixmedins_name=fixmedins_name, body=body, setl_id=str(s["setl_id"]),
        psn_no=str(s["psn_no"]), mdtrt_id=str(s["mdtrt_id"]), region=region_of(fixmedins_code),
        period=str(s["setl_end_date"])[:7], discharge_date=parse_day(s.get("setl_end_date")), admission=admitted,
        facts=facts, coded=tuple(list_codes(fixmedins_code, body)),
        list_money=list_money, list_person=person, person=person, money=_own_money(list_money),
    ), []


def list_person(s: Mapping[str, Any]) -> Person:
    """The older 4101's patient fields of a list, where it carries them (``hi_type`` is read as ``insutype``)."""
    gend = str(s.get("gend") or "").strip()
    return Person(name=str(s.get("psn_name") or "").strip(), sex=int(gend) if gend in ("1", "2") else None,
                  birth_date=parse_day(s.get("brdy")), stated_age=read_int(s.get("age")),
                  insutype=str(s.get("insutype") or s.get("hi_type") or "").strip())


def _own_money(m: ListMoney) -> CaseMoney | None:
    """A rich list's money when it has both cost nodes: the fee total, the fund, and the personal share (the
    stated account and cash payments, else what the fund left)."""
    if m.item_total_fen is None or m.payinfo_fund_fen is None:
        return None
    total, fund = m.item_total_fen, m.payinfo_fund_fen
    stated = m.account_fen is not None and m.cash_fen is not None
    account, cash = (m.account_fen or 0, m.cash_fen or 0) if stated else (0, 0)
    return CaseMoney(total, fund, account + cash if stated else total - fund, account, cash, MoneySource.LIST)


_PLAIN = frozenset((str, int, float))
"""Types of setlinfo values ``_structure`` never finds fault with (it names objects and arrays)."""
_PLAIN_OR_ABSENT = _PLAIN | {type(None)}
_OBJECTS = frozenset((dict,))


def _well_formed(body: Mapping[str, Any]) -> bool:
    """True when ``_structure`` has nothing to say, in a few C-level passes: every required setlinfo field a
    non-empty text or a number, every patient field absent or one, each node of entries absent or an array
    of objects (``diseinfo`` a non-empty one). False means "ask ``_structure``", which decides; the two agree
    (tests/unit/collection/test_parsing_fast_paths.py)."""
    s = body.get("setlinfo")
    if type(s) is not dict:
        return False
    required = tuple(map(s.get, REQUIRED_SETLINFO))
    if not _PLAIN.issuperset(map(type, required)) or "" in required:
        return False
    if not _PLAIN_OR_ABSENT.issuperset(map(type, map(s.get, PATIENT_FIELDS))):
        return False
    for node in REQUIRED_LISTS + OPTIONAL_LISTS:
        value = body.get(node)
        if value is None and node not in REQUIRED_LISTS:
            continue
        if type(value) is not list or not _OBJECTS.issuperset(map(type, value)) or (
                not value and node in REQUIRED_LISTS):
            return False
    return True


def _structure(body: Mapping[str, Any]) -> list[Finding]:
    found = []
    s = body.get("setlinfo")
    if not isinstance(s, Mapping):
        return [error("QC-REQ-001", "setlinfo", "缺少结算清单主信息 setlinfo", "setlinfo is missing or not an object")]
    for name in REQUIRED_SETLINFO + PATIENT_FIELDS:
        if s.get(name) in (None, ""):
            if name in REQUIRED_SETLINFO:
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
        elif not all(type(item) is dict or isinstance(item, Mapping) for item in value):
            found.append(error("QC-REQ-002", node, f"{node} 的元素必须是对象", f"every {node} entry must be an object"))
    return found


_PARTS = ("claa_sumfee", "clab_amt", "fulamt_ownpay_amt", "oth_amt")


_AMOUNT = r"[0-9]{1,10}\.[0-9]{2}"
_FIVE_AMOUNTS = re.compile(rf"{_AMOUNT}(?:,{_AMOUNT}){{4}}")
_ENTRY_AMOUNTS = itemgetter("amt", *_PARTS)


def _items(entries: list[Any]) -> tuple[ItemFen, int, list[Finding]]:
    """Per iteminfo entry (amt, sum of its class parts or None), in fen, and the sum of the amts; bad amounts
    as findings."""
    common = _common_items(entries) if entries else None
    return common if common is not None else _each_item(entries)


def _each_item(entries: list[Any]) -> tuple[ItemFen, int, list[Finding]]:
    """``_items`` entry by entry: the precise reading, naming each bad amount."""
    out: list[tuple[int, int | None]] = []
    problems: list[Finding] = []
    for i, item in enumerate(entries):
        try:  # the common entry: all five amounts in the internal form, read at once
            amounts = (item["amt"], item["claa_sumfee"], item["clab_amt"], item["fulamt_ownpay_amt"], item["oth_amt"])
            joined = ",".join(amounts)
        except (KeyError, TypeError):
            joined = ""
        if _FIVE_AMOUNTS.fullmatch(joined):  # each "d.dd": its fen are its digits
            amt, claa, clab, own, other = map(int, joined.replace(".", "").split(","))
            out.append((amt, claa + clab + own + other))
            continue
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
    return tuple(out), sum(a for a, _ in out), problems


def _common_items(entries: list[Any]) -> tuple[ItemFen, int, list[Finding]] | None:
    """``_items`` of a list whose every entry has all five amounts in the internal form ("d.dd"), the common
    list, read at once: the amounts of all entries joined, matched by one pattern, their fen the digits. None
    when one entry is not so (then ``_items`` reads entry by entry)."""
    try:
        joined = ",".join(chain.from_iterable(map(_ENTRY_AMOUNTS, entries)))
    except (KeyError, TypeError):  # an amount missing or not a text
        return None
    if not in_money_form(joined, ",", 5 * len(entries), 10):  # (a text holding a comma is not: entry by entry)
        return None
    fen = list(map(int, joined.replace(".", "").split(",")))
    amounts = fen[0::5]
    parts = list(map(sum, zip(fen[1::5], fen[2::5], fen[3::5], fen[4::5], strict=True)))
    return tuple(zip(amounts, parts, strict=True)), sum(amounts), []


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


