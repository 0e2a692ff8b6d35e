"""The whole-line judgement of the bulk import (``plain_input.already_checked``) agrees with the value-by-value
one pass it short-cuts (``limits.checked_form``, itself checked against the precise path in
test_checked_form.py): wherever it says a line's input is plain, the one pass leaves that input as it is."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.collection.domain.limits import checked_form, stay_window
from services.collection.domain.plain_input import already_checked, in_money_form

from .test_checked_form import CODE, NOW, SAMPLE, lists

WINDOW = stay_window(NOW)


def line(body: Any, *, compact: bool = True) -> bytes:
    request = {"infno": "4101A", "msgid": CODE + "20260301120000" + "0001", "fixmedins_code": CODE,
               "inf_time": "2026-03-01 12:00:00", "input": body}
    if compact:
        return orjson.dumps(request)
    # ", " and ": " between, as Python writes it
    return json.dumps(request, ensure_ascii=False, allow_nan=False).encode()


def plain_as_the_one_pass(body: Any) -> bool:
    checked = checked_form(body, CODE, NOW)
    return checked is not None and checked == body and list(checked) == list(body) and all(
        list(checked[k]) == list(body[k]) for k in body if isinstance(body[k], dict))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists(), st.booleans())
def test_a_line_judged_plain_is_left_as_it_is_by_the_one_pass(body: dict[str, Any], compact: bool) -> None:
    try:
        raw = line(body, compact=compact)
    except (TypeError, ValueError):  # not JSON at all (an infinite float): no line to judge
        return
    body = orjson.loads(raw)["input"]  # as the import reads it (a float may come back as an int)
    if already_checked(raw, *WINDOW):
        assert plain_as_the_one_pass(body)


def test_the_sample_list_is_judged_plain_in_both_spellings_of_json() -> None:
    assert already_checked(line(SAMPLE["input"]), *WINDOW)
    assert already_checked(line(SAMPLE["input"], compact=False), *WINDOW)
    assert plain_as_the_one_pass(SAMPLE["input"])


def edited(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE["input"])
    change(body)
    return body


@pytest.mark.parametrize("why, change", [
    ("a text with a leading space", lambda b: b["setlinfo"].update(psn_name=" 张三")),
    ("a text with a trailing ideographic space", lambda b: b["setlinfo"].update(psn_name="张三\u3000")),
    ("a control character", lambda b: b["diseinfo"][0].update(diag_name="a\tb")),
    ("a C1 control character", lambda b: b["diseinfo"][0].update(diag_name="a\x85b")),
    ("an empty text", lambda b: b["setlinfo"].update(hi_no="")),
    ("a null", lambda b: b["setlinfo"].update(hi_no=None)),
    ("an empty amount", lambda b: b["payinfo"][0].update(fund_payamt="")),
    ("an alias", lambda b: b["setlinfo"].update(hi_type="310")),
    ("a property of no field", lambda b: b["setlinfo"].update(province_extra="1")),
    ("money as a number", lambda b: b["iteminfo"][0].update(amt=12.5)),
    ("money without its cents", lambda b: b["iteminfo"][0].update(amt="12")),
    ("money of eight digits", lambda b: b["iteminfo"][0].update(amt="12345678.00")),
    ("a date with a time", lambda b: b["setlinfo"].update(setl_end_date="2026-02-08 00:00:00")),
    ("an ISO time", lambda b: b["setlinfo"].update(dscg_time="2026-02-08T16:30:00")),
    ("a stay before 1990", lambda b: b["setlinfo"].update(adm_time="1989-12-31 23:59:59")),
    ("a stay after tomorrow", lambda b: b["setlinfo"].update(dscg_time="2026-03-02 12:00:01")),
    ("a count as text", lambda b: b["setlinfo"].update(act_ipt_days="7")),
    ("a count out of range", lambda b: b["setlinfo"].update(age=151)),
    ("a birth weight", lambda b: b["setlinfo"].update(nwb_bir_wt=3200)),
    ("an empty node entry", lambda b: b["diseinfo"].append({})),
    ("a text too long", lambda b: b["setlinfo"].update(psn_name="x" * 51)),
    ("a date of other digits", lambda b: b["setlinfo"].update(setl_end_date="2026-0२-08")),
    ("a date with a slash", lambda b: b["setlinfo"].update(setl_end_date="2026/02/08")),
    ("a time with a T", lambda b: b["setlinfo"].update(dscg_time="2026-02-08T16:30:00")),
    ("a time without its seconds", lambda b: b["setlinfo"].update(dscg_time="2026-02-08 16:30")),
    ("money with one place", lambda b: b["setlinfo"].update(medfee_sumamt="1.5")),
    ("money with a leading point", lambda b: b["iteminfo"][0].update(amt=".50")),
    ("money of other digits", lambda b: b["iteminfo"][0].update(amt="1٢.50")),
])
def test_a_line_that_needs_the_one_pass_is_sent_to_it(why: str, change: Any) -> None:
    body = edited(change)
    assert not already_checked(line(body), *WINDOW), why
    assert not already_checked(line(body, compact=False), *WINDOW), why


def test_what_is_judged_is_the_request_as_read() -> None:
    """A property given twice is the last one to orjson, and to the judgement of the request it read."""
    raw = line(SAMPLE["input"])
    twice = raw.replace(b'"setlinfo":{', b'"setlinfo":{"psn_name":" bad ",', 1)
    assert twice != raw and orjson.loads(twice)["input"] == SAMPLE["input"]
    assert already_checked(twice, *WINDOW)
    assert already_checked(twice, *WINDOW, orjson.loads(twice))
    assert not already_checked(raw, *WINDOW, orjson.loads(raw.replace(b'"setlinfo":{', b'"setlinfo":{"x":1,', 1)))


def test_a_line_that_is_no_request_is_not_plain() -> None:
    assert not already_checked(b"not json", *WINDOW)
    assert not already_checked(b'{"input": []}', *WINDOW)
    assert not already_checked(b"{}", *WINDOW)


_AMOUNT_TEXT = st.one_of(
    st.builds(lambda whole, cents: f"{whole}.{cents:02d}", st.integers(0, 10**12), st.integers(0, 99)),
    st.text(alphabet="0123456789.,-+ _a\x1f\u0662", max_size=14))


@settings(max_examples=2000, deadline=None)
@given(st.lists(_AMOUNT_TEXT, max_size=6), st.sampled_from([("\x1f", 7), (",", 10)]))
def test_the_money_form_is_the_pattern_s(amounts: list[str], how: tuple[str, int]) -> None:
    separator, most = how
    joined = separator.join(amounts)
    pattern = re.compile(rf"[0-9]{{1,{most}}}\.[0-9]{{2}}(?:{separator}[0-9]{{1,{most}}}\.[0-9]{{2}})*")
    as_the_pattern = joined == "" if not amounts else bool(
        pattern.fullmatch(joined)) and len(joined.split(separator)) == len(amounts)
    assert in_money_form(joined, separator, len(amounts), most) == as_the_pattern


@pytest.mark.parametrize("joined, count, plain", [
    ("", 0, True), ("0.00", 1, True), ("1234567.89", 1, True), ("12345678.90", 1, False), ("1.5", 1, False),
    ("1.500", 1, False), (".50", 1, False), ("1.00\x1f2.00", 2, True), ("1.00\x1f2.00", 1, False),
    ("1.00\x1f\x1f2.00", 2, False), ("1.00\x1f.00", 2, False), ("1.00\x1f2.00\x1f", 2, False), ("1.0a", 1, False),
    ("1..00", 1, False), ("\u0661.00", 1, False)])
def test_the_money_form_of_cases(joined: str, count: int, plain: bool) -> None:
    assert in_money_form(joined, "\x1f", count, 7) is plain
