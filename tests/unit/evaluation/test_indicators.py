"""INDICATORS.md's edges, computed by hand: each expected figure below is worked out in the comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.evaluation.domain.indicators.compute import NoCasesError, compute_indicators
from services.evaluation.domain.indicators.rounding import round4_ratio, text4
from services.evaluation.domain.indicators.table import CaseTableBuilder

from .reference import indicators_csv as reference_csv
from .support import case, cells, computed

HEADER = ("level,unit,cases,grouped,grouping_rate,drg_count,total_weight,cmi,time_index,cost_index,"
          "low_risk_cases,low_risk_deaths,low_risk_mortality,readmit15_rate")


def mixed_cases() -> list[dict[str, object]]:
    """Two hospitals for one person and one doctor, a group with zero LOS and zero cost, readmission gaps of 15,
    0 and 16 days, an ungroupable and an ambiguous (unweighted) case."""
    return [
        case("c1", hospital="H1", dept="A", doctor="D1", person="P1", group="G1", adm="2026-01-01",
             dscg="2026-01-05", los=4, cost="100.00"),
        case("c2", hospital="H2", dept="A", doctor="D1", person="P1", group="G1", adm="2026-01-20",
             dscg="2026-01-22", los=2, cost="300.00"),  # 15 days after c1's discharge: c1 is readmitted
        case("c3", hospital="H2", dept="B", doctor="D2", person="P2", group="GZ", adm="2026-02-01",
             dscg="2026-02-01", los=0, cost="0.00", way="5"),
        case("c4", hospital="H2", dept="B", doctor="D2", person="P2", group="GZ", adm="2026-02-01",
             dscg="2026-02-01", los=0, cost="0.00"),  # 0 days: c3 and c4 each start the day the other ends
        case("c5", hospital="H3", dept="C", doctor="D3", person="P3", group="0000", adm="2026-03-01",
             dscg="2026-03-05", los=4, cost="50.00"),
        case("c6", hospital="H3", dept="C", doctor="D3", person="P3", group="X1QY", adm="2026-03-21",
             dscg="2026-03-22", los=1, cost="10.00"),  # 16 days after c5: not a readmission
    ]


MIXED_WEIGHTS = {"G1": "1.0000", "GZ": "2.0000"}


def test_hand_computed_rows_of_a_small_region(tmp_path: Path) -> None:
    # L_G1 = (4+2)/2 = 3, C_G1 = 200; GZ has L = 0 and C = 0, so its cases count 1 in both indices.
    # Region: weighted c1..c4: time (4/3 + 2/3 + 1 + 1)/4 = 1, cost (0.5 + 1.5 + 1 + 1)/4 = 1, cmi 6/4.
    # Readmitted: c1 (15 days), c3 and c4 (0 days); not c5 (16 days): 3/6.
    expected = "\n".join([
        HEADER,
        "region,ALL,6,5,0.8333,2,6.0000,1.5000,1.0000,1.0000,0,0,,0.5000",
        "hospital,H1,1,1,1.0000,1,1.0000,1.0000,1.3333,0.5000,0,0,,1.0000",
        # H2: c2, c3, c4: cmi 5/3, time (2/3 + 1 + 1)/3 = 8/9, cost (1.5 + 1 + 1)/3 = 7/6
        "hospital,H2,3,3,1.0000,2,5.0000,1.6667,0.8889,1.1667,0,0,,0.6667",
        # H3 has no weighted case: drg_count 0, total_weight 0, empty cmi and indices
        "hospital,H3,2,1,0.5000,0,0.0000,,,,0,0,,0.0000",
        "dept,H1/A,1,1,1.0000,1,1.0000,1.0000,1.3333,0.5000,0,0,,1.0000",
        "dept,H2/A,1,1,1.0000,1,1.0000,1.0000,0.6667,1.5000,0,0,,0.0000",
        "dept,H2/B,2,2,1.0000,1,4.0000,2.0000,1.0000,1.0000,0,0,,1.0000",
        "dept,H3/C,2,1,0.5000,0,0.0000,,,,0,0,,0.0000",
        # D1 works at H1 and H2: one unit, (4/3 + 2/3)/2 = 1 and (0.5 + 1.5)/2 = 1
        "doctor,D1,2,2,1.0000,1,2.0000,1.0000,1.0000,1.0000,0,0,,0.5000",
        "doctor,D2,2,2,1.0000,1,4.0000,2.0000,1.0000,1.0000,0,0,,1.0000",
        "doctor,D3,2,1,0.5000,0,0.0000,,,,0,0,,0.0000",
    ]) + "\n"
    assert computed(tmp_path / "fast", mixed_cases(), MIXED_WEIGHTS) == expected
    assert computed(tmp_path / "line", mixed_cases(), MIXED_WEIGHTS, by_line=True) == expected
    assert reference_csv(mixed_cases(), MIXED_WEIGHTS) == expected


def group_of(name: str, count: int, deaths: int, hospital: str = "H1", start: int = 0) -> list[dict[str, object]]:
    """``count`` cases of one group, the first ``deaths`` of them died; each its own person (no readmissions)."""
    return [case(f"{name}-{start + i}", hospital=hospital, person=f"{name}-{start + i}", group=name,
                 way="5" if i < deaths else "1") for i in range(count)]


def test_low_risk_groups_need_30_cases_and_weight_and_lie_strictly_below_mu_minus_sd(tmp_path: Path) -> None:
    # Eligible: GA 1/30, GB 6/30, GC 6/30 (GD has 29 cases, GE no weight). mu = 13/90; deviations 1/9, -1/18,
    # -1/18; variance = (1/81 + 2/324)/3 = 1/162 < (1/9)^2 = 2/162: GA is low-risk, GB and GC are not.
    # Were GD (29 cases, 0 deaths) counted, mu - sd would be 0.0159 and GA (0.0333) would not be low-risk.
    cases = (group_of("GA", 20, 1, "H1") + group_of("GA", 10, 0, "H2", start=20) + group_of("GB", 30, 6)
             + group_of("GC", 30, 6) + group_of("GD", 29, 0) + group_of("GE", 40, 0))
    weights = {"GA": "1.0000", "GB": "1.0000", "GC": "1.0000", "GD": "1.0000"}
    got = cells(computed(tmp_path, cases, weights))
    assert [got[("region", "ALL")][k] for k in ("low_risk_cases", "low_risk_deaths", "low_risk_mortality")] == \
        ["30", "1", "0.0333"]
    assert [got[("hospital", "H1")][k] for k in ("low_risk_cases", "low_risk_deaths", "low_risk_mortality")] == \
        ["20", "1", "0.0500"]
    assert [got[("hospital", "H2")][k] for k in ("low_risk_cases", "low_risk_deaths", "low_risk_mortality")] == \
        ["10", "0", "0.0000"]
    assert computed(tmp_path, cases, weights) == reference_csv(cases, weights)


def test_with_29_cases_a_group_takes_no_part_and_a_group_of_30_does(tmp_path: Path) -> None:
    # GA (0 deaths) and GB (3 deaths of 30); with 30 cases GA is low-risk: mu = 1/20, sd = 1/20, ... which is a
    # tie (see the next test), so use GB = 6/30: mu = 1/10, sd = 1/10 -> tie again. Three groups break it:
    # GA 0, GB 6/30, GC 6/30: mu = 2/15, variance = ((2/15)^2 + 2 (1/15)^2)/3 = 2/225 < (2/15)^2 = 4/225.
    base = group_of("GB", 30, 6) + group_of("GC", 30, 6)
    weights = {"GA": "1.0000", "GB": "1.0000", "GC": "1.0000"}
    with_30 = cells(computed(tmp_path / "30", group_of("GA", 30, 0) + base, weights))
    with_29 = cells(computed(tmp_path / "29", group_of("GA", 29, 0) + base, weights))
    assert with_30[("region", "ALL")]["low_risk_cases"] == "30"
    assert with_30[("region", "ALL")]["low_risk_mortality"] == "0.0000"
    # with GA out: GB and GC have equal mortality, sd = 0: no low-risk group at all
    assert with_29[("region", "ALL")]["low_risk_cases"] == "0"
    assert with_29[("region", "ALL")]["low_risk_mortality"] == ""


def test_sd_zero_gives_no_low_risk_group(tmp_path: Path) -> None:
    cases = group_of("GA", 30, 3) + group_of("GB", 30, 3) + group_of("GC", 60, 6)
    got = cells(computed(tmp_path, cases, {"GA": "1.0000", "GB": "1.0000", "GC": "1.0000"}))
    assert {row["low_risk_cases"] for row in got.values()} == {"0"}
    assert {row["low_risk_mortality"] for row in got.values()} == {""}


def test_a_group_exactly_at_mu_minus_sd_is_not_low_risk(tmp_path: Path) -> None:
    # GA 0/30, GB 2/30: mu = 1/30, variance = (1/30)^2, sd = 1/30: GA sits exactly at mu - sd (strictly below
    # is required). A float square root would have to land on 1/30 exactly to get this right.
    cases = group_of("GA", 30, 0) + group_of("GB", 30, 2)
    got = cells(computed(tmp_path, cases, {"GA": "1.0000", "GB": "1.0000"}))
    assert got[("region", "ALL")]["low_risk_cases"] == "0"


def test_no_eligible_group_at_all(tmp_path: Path) -> None:
    got = cells(computed(tmp_path, group_of("GA", 5, 5), {"GA": "0.5000"}))
    assert got[("region", "ALL")]["low_risk_cases"] == "0" and got[("region", "ALL")]["low_risk_mortality"] == ""


def test_ties_round_half_up_once_in_every_figure(tmp_path: Path) -> None:
    # T1: los 10001 and 9999 -> L = 10000 -> 1.0001 and 0.9999; T2: one case -> 1. H1 = (1.0001 + 1)/2 = 1.00005.
    # K1: cost 100.01 and 99.99 -> C = 100 -> 1.0001 and 0.9999; K2 one case. H3 = (1.0001 + 1)/2 = 1.00005.
    # H5: 32 cases, 1 grouped and 1 readmitted: 1/32 = 0.03125. H6: weights 0.0001 and 0.0002: cmi 0.00015.
    cases = [
        case("t1a", hospital="H1", person="a", group="T1", los=10001),
        case("t1b", hospital="H2", person="b", group="T1", los=9999),
        case("t2", hospital="H1", person="c", group="T2", los=5),
        case("k1a", hospital="H3", person="d", group="K1", cost="100.01"),
        case("k1b", hospital="H4", person="e", group="K1", cost="99.99"),
        case("k2", hospital="H3", person="f", group="K2"),
        case("w1", hospital="H6", person="g", group="W1"),
        case("w2", hospital="H6", person="h", group="W2"),
        case("h5-first", hospital="H5", person="r", group="T3", adm="2026-01-01", dscg="2026-01-02"),
        case("h5-again", hospital="H5", person="r", group="0000", adm="2026-03-01", dscg="2026-03-02"),
        *(case(f"h5-{i}", hospital="H5", person=f"x{i}", group="0000") for i in range(30)),
    ]
    cases[8]["dscg_date"] = "2026-02-20"  # 9 days before h5-again: readmitted
    weights = {"T1": "1.0000", "T2": "1.0000", "K1": "1.0000", "K2": "1.0000", "W1": "0.0001", "W2": "0.0002"}
    got = cells(computed(tmp_path, cases, weights))
    assert got[("hospital", "H1")]["time_index"] == "1.0001"
    assert got[("hospital", "H2")]["time_index"] == "0.9999"
    assert got[("hospital", "H3")]["cost_index"] == "1.0001"
    assert got[("hospital", "H5")]["grouping_rate"] == "0.0313"
    assert got[("hospital", "H5")]["readmit15_rate"] == "0.0313"
    assert got[("hospital", "H6")]["cmi"] == "0.0002"
    assert got[("hospital", "H6")]["total_weight"] == "0.0003"
    assert computed(tmp_path, cases, weights) == reference_csv(cases, weights)


def test_units_sort_by_level_then_bytes(tmp_path: Path) -> None:
    cases = [case("1", hospital="H10", dept="B"), case("2", hospital="H1", dept="内科"),
             case("3", hospital="H1", dept="Z"), case("4", hospital="h0", doctor="d0"),
             case("5", hospital="H1", dept="A", doctor="D10")]
    units = [(row.split(",")[0], row.split(",")[1]) for row in computed(tmp_path, cases, {}).splitlines()[1:]]
    assert units == [("region", "ALL"), ("hospital", "H1"), ("hospital", "H10"), ("hospital", "h0"),
                     ("dept", "H1/A"), ("dept", "H1/Z"), ("dept", "H1/内科"), ("dept", "H10/B"), ("dept", "h0/A"),
                     ("doctor", "D1"), ("doctor", "D10"), ("doctor", "d0")]


def test_round4_is_half_up_on_exact_ratios() -> None:
    assert [text4(round4_ratio(n, d)) for n, d in ((1, 32), (1, 3), (2, 3), (5, 100_000), (4, 100_000),
                                                 (0, 7), (7, 7), (-1, 32))] == \
        ["0.0313", "0.3333", "0.6667", "0.0001", "0.0000", "0.0000", "1.0000", "-0.0313"]


def test_no_cases_is_an_error_not_an_empty_table() -> None:
    with pytest.raises(NoCasesError):
        compute_indicators(CaseTableBuilder().build(), {})
