"""MCC/CC with exclusion tables (FORMAT.md, "MCC and CC")."""

from __future__ import annotations

from services.grouping.domain.engine import group_case

from .builders import case, pack

SPLITS = [{"code": "TA11", "name": "", "when": {"has_mcc": True}},
          {"code": "TA13", "name": "", "when": {"has_cc": True}},
          {"code": "TA15", "name": "", "when": {"always": True}}]
TABLES = {"mcc": (("N17.900", "145"), ("I50.900", "95")), "cc": (("J18.900", "101"),),
          "exclusion": (("I50.900", "95"), ("J18.901", "101"))}


def drg(*dx: str) -> str:
    return group_case(pack({"always": True}, drgs=SPLITS, **TABLES), case(dx=dx)).drg


def test_a_secondary_mcc_counts() -> None:
    assert drg("I21.001", "N17.900") == "TA11"


def test_an_mcc_in_the_principals_exclusion_table_does_not_count() -> None:
    assert drg("I50.900", "I50.900") == "TA15"


def test_an_mcc_of_another_table_counts_even_when_the_principal_has_one() -> None:
    assert drg("I50.900", "N17.900") == "TA11"


def test_a_principal_without_exclusion_row_excludes_nothing() -> None:
    assert drg("A00.000", "J18.900") == "TA13"


def test_a_cc_in_the_principals_table_is_excluded() -> None:
    assert drg("J18.901", "J18.900") == "TA15"


def test_the_principal_itself_never_counts() -> None:
    assert drg("N17.900") == "TA15"


def test_explanation_names_counted_and_excluded_secondaries() -> None:
    scheme = pack({"always": True}, drgs=SPLITS, **TABLES)
    trace = group_case(scheme, case(dx=("I50.900", "I50.900", "J18.900")), explained=True).trace
    assert any("I50.900: MCC excluded by table 95" in line for line in trace)
    assert any("J18.900: counts as CC" in line for line in trace)
    assert any(line.startswith("DRG TA13") for line in trace)


def test_no_trace_unless_asked() -> None:
    scheme = pack({"always": True}, drgs=SPLITS, **TABLES)
    assert group_case(scheme, case(dx=("I21.001", "N17.900"))).trace == ()
