"""Each predicate kind of FORMAT.md, on hand-made one-rule packs: the case groups (TA19) or not (0000)."""

from __future__ import annotations

from typing import Any

import pytest

from services.grouping.domain.engine import group_case

from .builders import case, pack


def drg(rule: Any, c: Any, **kw: Any) -> str:
    return group_case(pack(rule, **kw), c).drg


def test_always_holds() -> None:
    assert drg({"always": True}, case()) == "TA19"


def test_principal_dx_in_looks_only_at_the_first_diagnosis() -> None:
    rule = {"principal_dx_in": ["B01.000"]}
    assert drg(rule, case(dx=("B01.000", "C01.000"))) == "TA19"
    assert drg(rule, case(dx=("C01.000", "B01.000"))) == "0000"


def test_any_dx_in_includes_the_principal() -> None:
    rule = {"any_dx_in": ["B01.000"]}
    assert drg(rule, case(dx=("B01.000",))) == "TA19"
    assert drg(rule, case(dx=("C01.000", "B01.000"))) == "TA19"
    assert drg(rule, case(dx=("C01.000", "D01.000"))) == "0000"


def test_secondary_dx_in_excludes_the_principal() -> None:
    rule = {"secondary_dx_in": ["B01.000"]}
    assert drg(rule, case(dx=("B01.000",))) == "0000"
    assert drg(rule, case(dx=("C01.000", "B01.000"))) == "TA19"


def test_principal_proc_in_needs_a_procedure_first() -> None:
    rule = {"principal_proc_in": ["36.0600"]}
    assert drg(rule, case(px=("36.0600", "88.5500"))) == "TA19"
    assert drg(rule, case(px=("88.5500", "36.0600"))) == "0000"
    assert drg(rule, case(px=())) == "0000"


def test_any_proc_in() -> None:
    rule = {"any_proc_in": ["36.0600"]}
    assert drg(rule, case(px=("88.5500", "36.0600"))) == "TA19"
    assert drg(rule, case(px=("88.5500",))) == "0000"


def test_principal_proc_is_or_uses_the_or_table() -> None:
    rule = {"principal_proc_is_or": True}
    assert drg(rule, case(px=("47.0900",)), ors=("47.0900",)) == "TA19"
    assert drg(rule, case(px=("88.5500", "47.0900")), ors=("47.0900",)) == "0000"


def test_any_proc_is_or() -> None:
    rule = {"any_proc_is_or": True}
    assert drg(rule, case(px=("88.5500", "47.0900")), ors=("47.0900",)) == "TA19"
    assert drg(rule, case(px=("88.5500",)), ors=("47.0900",)) == "0000"


def test_has_proc() -> None:
    assert drg({"has_proc": True}, case(px=("88.5500",))) == "TA19"
    assert drg({"has_proc": True}, case(px=())) == "0000"


def test_logical_all_any_not() -> None:
    b, c = {"any_dx_in": ["B01.000"]}, {"any_dx_in": ["C01.000"]}
    both = case(dx=("B01.000", "C01.000"))
    only_b = case(dx=("B01.000",))
    assert drg({"all": [b, c]}, both) == "TA19"
    assert drg({"all": [b, c]}, only_b) == "0000"
    assert drg({"any": [b, c]}, only_b) == "TA19"
    assert drg({"not": c}, only_b) == "TA19"
    assert drg({"not": b}, only_b) == "0000"


@pytest.mark.parametrize(("op", "value", "age", "holds"), [
    ("lt", 18, 17, True), ("lt", 18, 18, False), ("le", 18, 18, True), ("gt", 65, 66, True),
    ("gt", 65, 65, False), ("ge", 65, 65, True), ("eq", 0, 0, True), ("ne", 0, 0, False),
])
def test_cmp_operators(op: str, value: int, age: int, holds: bool) -> None:
    assert (drg({"cmp": ["age_years", op, value]}, case(age_years=age)) == "TA19") is holds


def test_cmp_on_a_missing_value_is_false_whatever_the_operator() -> None:
    assert drg({"cmp": ["age_days", "le", 28]}, case(age_days=None)) == "0000"
    assert drg({"cmp": ["age_days", "ne", 28]}, case(age_days=None)) == "0000"


def test_cmp_on_birth_weight_zero_is_false() -> None:
    assert drg({"cmp": ["birth_weight_g", "lt", 1500]}, case(birth_weight_g=0)) == "0000"
    assert drg({"cmp": ["birth_weight_g", "lt", 1500]}, case(birth_weight_g=1200)) == "TA19"


def test_cmp_dept_compares_strings() -> None:
    assert drg({"cmp": ["dept", "eq", "ICU"]}, case(dept="ICU")) == "TA19"
    assert drg({"cmp": ["dept", "eq", "ICU"]}, case(dept="")) == "0000"


def test_cmp_dx_count() -> None:
    assert drg({"cmp": ["dx_count", "ge", 2]}, case(dx=("A00.000", "B00.000"))) == "TA19"
    assert drg({"cmp": ["dx_count", "ge", 2]}, case(dx=("A00.000",))) == "0000"


def test_trauma_sites_min_counts_distinct_sites_of_all_diagnoses() -> None:
    rule = {"trauma_sites_min": {"min_sites": 2, "sites": {"head": ["S01.000", "S02.000"], "leg": ["S72.000"]}}}
    assert drg(rule, case(dx=("S01.000", "S72.000"))) == "TA19"
    assert drg(rule, case(dx=("S01.000", "S02.000"))) == "0000"  # two codes, one site


def test_procedure_tags_are_collected_from_all_procedures() -> None:
    rule = {"with_proc_tags": {"1": ["68.4100"], "2": ["65.6100"]},
            "rule": {"all": [{"proc_tag": "1"}, {"proc_tag": "2"}]}}
    assert drg(rule, case(px=("65.6100", "68.4100"))) == "TA19"
    assert drg(rule, case(px=("68.4100",))) == "0000"


def test_ambiguous_group_when_its_predicate_holds() -> None:
    scheme = pack({"always": True}, mdc_steps=[{"ambiguous_if": {"has_proc": True}}, "TA1"])
    result = group_case(scheme, case(px=("88.5500",)))
    assert (result.drg, result.adrg, result.mdc) == ("TQY", "QY", "T")
    assert group_case(scheme, case(px=())).drg == "TA19"


def test_procedure_retry_tries_each_other_procedure_alone() -> None:
    rule = {"principal_proc_in": ["47.0900"]}
    retry = {"retry_each_other_procedure_alone": True}
    c = case(px=("88.5500", "99.0400", "47.0900"))
    assert drg(rule, c, extra=retry) == "TA19"
    assert drg(rule, c) == "0000"  # packs without the flag do not retry


def test_first_matching_drg_split_wins() -> None:
    splits = [{"code": "TA11", "name": "", "when": {"has_mcc": True}},
              {"code": "TA13", "name": "", "when": {"has_cc": True}},
              {"code": "TA15", "name": "", "when": {"always": True}}]
    kw = {"drgs": splits, "mcc": (("N17.900", "145"),), "cc": (("J18.900", "101"),)}
    assert drg({"always": True}, case(dx=("I21.001", "J18.900", "N17.900")), **kw) == "TA11"
    assert drg({"always": True}, case(dx=("I21.001", "J18.900")), **kw) == "TA13"
    assert drg({"always": True}, case(dx=("I21.001",)), **kw) == "TA15"
