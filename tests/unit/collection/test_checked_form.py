"""The one-pass form of a list (``limits.checked_form``) agrees with the precise path it short-cuts: the
HIS-form normaliser, then the input limits. Wherever it answers, its answer is the normaliser's and the limits
find nothing; where it does not (None), the precise path decides as before."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.domain.dialects import SETLINFO_ALIASES, normalise
from services.collection.domain.fields import NODES, SETLINFO, Field, Kind
from services.collection.domain.limits import checked_form, input_limits
from services.collection.domain.parsing import parse_list

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))
CODE = SAMPLE["fixmedins_code"]
NOW = datetime(2026, 3, 1, 12, 0, 0)

TRICKY: list[Any] = [
    None, "", " ", "\u3000", "  x ", "a\tb", "a\nb", "a\x00b", "a\x85b", "\x7f", "x" * 31, "x" * 201, "x" * 600,
    0, 1, -1, 7, 150, 151, 9999, 10**4, 10**12, 1769906400000, 3.0, 64.5, -0.5, 1e300, float("inf"), True, False,
    "64", "64.0", " 7 ", "9.5", "3200.00", "3205.5", "0", "0.00", "-1.00", "450", "450.5", "4.505", "abc",
    "27490.85", "1234567.89", "12345678.90", "20000000.00", "20000000.01", "99999999999999.99", "1e3", "NaN",
    "2026-02-01", "2026-02-01 08:40:00", "1989-12-31", "1989-12-31 23:59:59", "2026-03-02 12:00:00",
    "2026-03-02 12:00:01", "2099-01-01", "2026-02-30 08:00:00", "2026-02-01T08:40:00.000+08:00", "20260201",
    "2026/2/1 8:40", "20260201084000", "2026-02-08T16:30:00Z", "2026-02-01 08:40:00\n", "٢٠٢٦-٠٢-٠١",
    "１２.３４", "12.34", {}, {"a": 1}, [], [1], [{"a": "b"}],
]
SPELLINGS = [*SETLINFO_ALIASES, *SETLINFO_ALIASES.values(), "PSN_NO", "Age", "NWBBIRWT"]
OTHER_KEYS = ["province_extra", "x" * 70, "bad\x01key", "名字", "123"]


def fitting(field: Field) -> list[Any]:
    """Values at and just beyond a field's limits, in its own form and in the HIS forms."""
    if field.kind in (Kind.ID, Kind.TEXT):
        return ["1", " 2 ", 12, "x" * field.size, "x" * (field.size + 1), "a\tb"]
    if field.kind in (Kind.INT, Kind.AGE, Kind.GRAMS):
        low, high = field.range()
        return [low, high, low - 1, high + 1, str(high), f"{low}.0", 0, 3.0]
    if field.kind is Kind.MONEY:
        return ["0.00", "12.34", "9999999.99", "10000000.00", "20000000.00", "20000000.01", "-1.00", "450", 450, 12.5]
    return ["2026-02-01", "1989-12-31", "1990-01-01", "2026-03-02", "2026-03-03", "2026-02-01 08:40:00",
            "1989-12-31 23:59:59", "1990-01-01 00:00:00", "2026-03-02 12:00:00", "2026-03-02 12:00:01", "20260201"]


@st.composite
def fitted(draw: st.DrawFn, fields: Mapping[str, Field]) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(fields)))
    return name, draw(st.sampled_from(fitting(fields[name])))


def keys() -> st.SearchStrategy[str]:
    known, spellings = st.sampled_from(sorted(SETLINFO)), st.sampled_from(SPELLINGS)
    return st.one_of(known, known, spellings, spellings, st.sampled_from(OTHER_KEYS))


PLAIN: list[Any] = [None, "", " ", "1", " 2", "64", "310", 7, 64, 3.0, "3200.00", "450", 12.5, "2026-02-01",
                   "2026-02-01 08:40:00", "2026-02-01T08:40:00.000+08:00", "20260201", "x"]
"""Values most fields take (the one pass answers for lists of them)."""


def values() -> st.SearchStrategy[Any]:
    plain = st.sampled_from(PLAIN)
    return st.one_of(plain, plain, plain, plain, st.sampled_from(TRICKY), st.text(max_size=12),
                     st.integers(-10, 10**6), st.floats(allow_nan=False, max_value=1e7, min_value=-1e7))


@st.composite
def lists(draw: st.DrawFn) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE["input"])
    s = body["setlinfo"]
    for key, value in draw(st.lists(st.tuples(keys(), values()), max_size=4)):
        if draw(st.booleans()):
            s[key] = value
        else:  # an alias or a spelling before the canonical one
            body["setlinfo"] = s = {key: value, **s}
    s.update(draw(st.lists(fitted(SETLINFO), max_size=4)))
    for alias in draw(st.lists(st.sampled_from(sorted(SETLINFO_ALIASES)), max_size=2)):  # both spellings
        pair = [(alias, draw(st.sampled_from(PLAIN))), (SETLINFO_ALIASES[alias], draw(st.sampled_from(PLAIN)))]
        s.update(pair if draw(st.booleans()) else pair[::-1])
    for node in draw(st.lists(st.sampled_from(sorted(NODES)), max_size=2)):
        entries = body.setdefault(node, [])
        if not isinstance(entries, list):
            continue
        shaped = [e for e in entries if isinstance(e, dict)]
        entry = dict(draw(st.sampled_from(shaped))) if shaped and draw(st.booleans()) else {}
        for key, value in draw(st.lists(st.tuples(st.sampled_from([*NODES[node], "hi_type", "Extra"]), values()),
                                        max_size=4)):
            entry[key] = value
        entry.update(draw(st.lists(fitted(NODES[node]), max_size=3)))
        entries.append(entry if draw(st.integers(0, 9)) else draw(st.sampled_from(TRICKY)))
    for key, value in draw(st.lists(st.tuples(st.sampled_from(["extra", "SETLINFO", *NODES]), values()), max_size=1)):
        body[key] = value
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists(), st.sampled_from([CODE, CODE, CODE, "H123", " " + CODE]))
def test_where_the_one_pass_answers_it_answers_as_the_precise_path(body: dict[str, Any], code: str) -> None:
    checked = checked_form(body, code, NOW)
    if checked is not None:
        internal = normalise(body)
        assert checked == internal and list(checked) == list(internal)
        assert list(checked.get("setlinfo", {})) == list(internal.get("setlinfo", {}))
        assert input_limits(internal, code, NOW) == []


def test_plain_and_his_form_lists_take_the_one_pass() -> None:
    plain = copy.deepcopy(SAMPLE["input"])
    assert checked_form(plain, CODE, NOW) == normalise(plain)
    his = copy.deepcopy(plain)
    s = his["setlinfo"]
    s |= {"age": str(s["age"]), "setl_begn_date": s["setl_begn_date"] + " 00:00:00", "hi_no": "", "ntly": None,
          "curr_addr": "  ", "nwbbirwt": "3200.00"}
    for item in his["iteminfo"]:
        item["amt"] = float(item["amt"])
    his["bldinfo"] = None
    assert checked_form(his, CODE, NOW) == normalise(his)


def test_a_list_the_one_pass_leaves_is_judged_by_the_precise_path() -> None:
    his = copy.deepcopy(SAMPLE["input"])
    his["setlinfo"]["psn_name"] = "x" * 51
    assert checked_form(his, CODE, NOW) is None
    parsed, findings = parse_list(CODE, "", his)
    assert parsed is None and [f.code for f in findings] == ["QC-LIM-001"]


def test_every_field_at_its_limits_is_judged_alike_in_setlinfo_and_in_each_node() -> None:
    answered = 0
    for node, fields in [("setlinfo", SETLINFO), *NODES.items()]:
        for name, field in fields.items():
            for value in fitting(field):
                body = copy.deepcopy(SAMPLE["input"])
                if node == "setlinfo":
                    body["setlinfo"][name] = value
                else:
                    template = {k: "1" if f.kind in (Kind.ID, Kind.TEXT) else "2026-02-01 08:00:00"
                                if f.kind is Kind.DATETIME else "2026-02-01" if f.kind is Kind.DATE else "1.00"
                                for k, f in fields.items() if f.kind not in (Kind.INT, Kind.AGE, Kind.GRAMS)}
                    body[node] = [template | {name: value}]
                checked = checked_form(body, CODE, NOW)
                internal = normalise(body)
                if checked is not None:
                    answered += 1
                    assert checked == internal and input_limits(internal, CODE, NOW) == [], (node, name, value)
                elif field.kind in (Kind.ID, Kind.TEXT) and value == "x" * field.size:
                    raise AssertionError(f"{node}.{name} at its length is not answered by the one pass")
    assert answered > 300
