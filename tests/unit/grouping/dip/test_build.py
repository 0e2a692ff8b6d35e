"""Building a catalogue: thresholds, comprehensive groups, the core-group type rule, exact means."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.grouping.domain.dip.build import BuildError, CatalogueBuilder, mean_cost
from services.grouping.domain.dip.case import CaseType, DipCase
from services.grouping.domain.dip.catalogue import Catalogue, CatalogueGroup, GroupKind

from .support import CLASSES, case, catalogue_of


def rows(catalogue: Catalogue) -> list[tuple[str, str, str, str, str, int, str]]:
    return [(g.group_id, g.kind.value, g.dx, "+".join(g.procedures), g.case_type.value, g.cases, f"{g.mean_cost}")
            for g in catalogue]


def test_a_key_with_exactly_threshold_cases_is_core_one_less_is_not() -> None:
    history = [(case("K35.300", "47.0100"), "100.00")] * 3 + [(case("K35.100", "47.0100"), "50.00")] * 2
    assert rows(catalogue_of(history, 3)) == [
        ("K35.3|47.0100", "core", "K35.3", "47.0100", "S", 3, "100.00"),
        ("K35/S", "comprehensive", "K35", "", "S", 2, "50.00"),
    ]
    assert rows(catalogue_of(history, 4)) == [("K35/S", "comprehensive", "K35", "", "S", 5, "80.00")]


def test_comprehensive_groups_collect_other_keys_by_dx3_and_type() -> None:
    history = [
        (case("K80.100", "51.2300"), "10"), (case("K80.200", "51.2300", "99.1800"), "20"),  # S
        (case("K80.000", "99.1800"), "30"),  # T
        (case("K80.000", "88.7600"), "40"),  # D
        (case("K80.000"), "50"),  # C
        (case("K80.000", "88.7600", "88.7600"), "60"),  # D, same key as the C case
    ]
    assert rows(catalogue_of(history, 5)) == [
        ("K80/C", "comprehensive", "K80", "", "C", 1, "50.00"),
        ("K80/D", "comprehensive", "K80", "", "D", 2, "50.00"),
        ("K80/S", "comprehensive", "K80", "", "S", 2, "15.00"),
        ("K80/T", "comprehensive", "K80", "", "T", 1, "30.00"),
    ]


def test_a_core_group_without_procedures_is_c_even_when_its_cases_had_diagnostic_procedures() -> None:
    history = [(case("J18.900", "87.4400"), "100"), (case("J18.900", "88.7600"), "200"), (case("J18.900"), "300")]
    assert rows(catalogue_of(history, 3)) == [("J18.9|", "core", "J18.9", "", "C", 3, "200.00")]


def test_core_type_from_the_procedure_set() -> None:
    history = [(case("K80.100", "99.1800", "51.2300"), "1")] * 2 + [(case("K80.100", "99.1800"), "1")] * 2
    assert [(g.group_id, g.case_type) for g in catalogue_of(history, 2)] == [
        ("K80.1|51.2300+99.1800", CaseType.SURGERY), ("K80.1|99.1800", CaseType.THERAPEUTIC)]


def test_order_of_procedures_duplicates_and_diagnostic_ones_do_not_split_a_key() -> None:
    history = [(case("K80.1", "51.2300", "99.1800"), "1"), (case("K80.100x001", "99.1800", "51.2300", "51.2300"), "2"),
               (case("K80.1", "88.7600", "99.1800", " 51.2300 "), "3")]
    assert rows(catalogue_of(history, 3)) == [("K80.1|51.2300+99.1800", "core", "K80.1", "51.2300+99.1800", "S", 3,
                                                "2.00")]


def test_cases_without_a_principal_diagnosis_are_skipped_and_counted() -> None:
    builder = CatalogueBuilder(CLASSES)
    builder.add(case(["", " "], "47.0100"), Decimal("10"))
    builder.add(DipCase(()), Decimal("10"))
    builder.add(case("K35.3", "47.0100"), Decimal("10"))
    assert (builder.cases, builder.skipped) == (1, 2)
    assert [g.group_id for g in builder.catalogue(1)] == ["K35.3|47.0100"]


@pytest.mark.parametrize(("costs", "mean"), [
    (["0.01", "0.00"], "0.01"),  # 0.005: half up
    (["0.01", "0.00", "0.00"], "0.00"),  # 0.00333...
    (["1.00", "1.00", "1.01"], "1.00"),
    (["1.01", "1.01", "1.00"], "1.01"),  # 1.00666...
    (["2.675", "2.675"], "2.68"),  # a binary float would make this 2.67
    (["0.125"], "0.13"),
    (["10586.195"], "10586.20"),
    (["99999999.99"] * 7 + ["0.01"], "87499999.99"),  # 699999999.94 / 8 = 87499999.9925
    (["1"] * 2 + ["0"], "0.67"),
])
def test_mean_cost_is_exact_and_rounded_half_up_once(costs: list[str], mean: str) -> None:
    history = [(case("I10.x00"), cost) for cost in costs]
    (group,) = catalogue_of(history, 1).groups
    assert f"{group.mean_cost}" == mean


def test_mean_cost_does_not_double_round() -> None:
    # 0.004999... rounds to 0.00 once; rounding to 3 places first would give 0.005 and then 0.01
    assert mean_cost(Decimal("0.0149999"), 3) == Decimal("0.00")
    assert mean_cost(Decimal("10"), 3) == Decimal("3.33")
    assert mean_cost(Decimal("-0.01"), 2) == Decimal("-0.01")  # half up is away from zero


def test_sums_are_exact_however_large() -> None:
    builder = CatalogueBuilder(CLASSES)
    for _ in range(3):
        builder.add(case("I10.x00"), Decimal("123456789012345678901234567890.01"))
    builder.add(case("I10.x00"), Decimal("0.000000000000000000000000000001"))
    (group,) = builder.catalogue(1).groups
    assert group.mean_cost == Decimal("92592591759259259175925925917.51")


def test_bad_thresholds_and_costs_are_refused() -> None:
    builder = CatalogueBuilder(CLASSES)
    with pytest.raises(BuildError, match="at least 1"):
        builder.catalogue(0)
    with pytest.raises(BuildError, match="non-negative"):
        builder.add(case("I10.x00"), Decimal("-1"))
    with pytest.raises(BuildError, match="finite"):
        builder.add(case("I10.x00"), Decimal("NaN"))


def test_one_builder_serves_several_thresholds() -> None:
    builder = CatalogueBuilder(CLASSES)
    builder.add_all([(case("K35.3", "47.0100"), Decimal(1))] * 4)
    assert [g.kind for g in builder.catalogue(5)] == [GroupKind.COMPREHENSIVE]
    assert [g.kind for g in builder.catalogue(4)] == [GroupKind.CORE]
    assert [g.kind for g in builder.catalogue(5)] == [GroupKind.COMPREHENSIVE]


def test_a_catalogue_is_sorted_in_byte_order_and_refuses_otherwise() -> None:
    history = [(case("a12.0"), "1"), (case("B12.0"), "1"), (case("_12.0"), "1"), (case("Z12.0", "99.1800"), "1")]
    assert [g.group_id for g in catalogue_of(history, 1)] == ["B12.0|", "Z12.0|99.1800", "_12.0|", "a12.0|"]
    one = CatalogueGroup("B12.0|", GroupKind.CORE, "B12.0", (), CaseType.CONSERVATIVE, 1, Decimal("1.00"))
    with pytest.raises(ValueError, match="byte order"):
        Catalogue((one, one))
