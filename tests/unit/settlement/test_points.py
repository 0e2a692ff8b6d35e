"""FORMAT steps 2-4 (point method) by hand. SMALL_HISTORY: RW_A1 = 0.75 (std 2000.00), RW_B1 = 1.5
(std 4000.00), avg_all = 8000/3; scale 100, so BP_A1 = 75 and BP_B1 = 150; default band k = 3, low 0.4."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settlement.domain.errors import CalculationError

from .builders import case, run


def kinds_and_points(out: dict[str, object]) -> dict[str, tuple[str, str]]:
    cases = out["cases"]
    assert isinstance(cases, dict)
    return {cid: (row["kind"], row["points"]) for cid, row in cases.items()}


def test_outlier_boundaries_are_strict(tmp_path: Path) -> None:
    out = run(tmp_path, [case("at-high", "A1", "6000.00"), case("high", "A1", "6000.01"),
                         case("at-low", "A1", "800.00"), case("low", "A1", "799.99"), case("mid", "A1", "2000")])
    assert kinds_and_points(out) == {
        "at-high": ("normal", "75.0000"),
        "high": ("high", "75.0004"),  # 75 + (6000.01 / 2000 - 3) x 75 = 75.000375
        "at-low": ("normal", "75.0000"),
        "low": ("low", "29.9996"),  # 75 x 799.99 / 2000 = 29.999625
        "mid": ("normal", "75.0000"),
    }
    assert out["cases"]["high"]["base_points"] == "75.0000" and out["cases"]["high"]["rw"] == "0.7500"


def test_the_first_band_whose_upper_bound_reaches_the_base_points_gives_k(tmp_path: Path) -> None:
    bands = [{"up_to": "74.99", "k": "5"}, {"up_to": "75", "k": "2"}, {"k": "1.5"}]
    out = run(tmp_path, [case("a", "A1", "4000.01"), case("b", "B1", "6000.01"), case("c", "B1", "6000")],
              high_bands=bands)
    assert out["cases"]["a"]["kind"] == "high"  # BP 75 <= 75 -> k = 2
    assert out["cases"]["b"]["kind"] == "high"  # BP 150 -> last band, k = 1.5
    assert out["cases"]["c"]["kind"] == "normal"


def test_a_band_list_that_does_not_cover_the_base_points_fails(tmp_path: Path) -> None:
    with pytest.raises(CalculationError, match="high_bands"):
        run(tmp_path, [case("a", "B1", "4000")], high_bands=[{"up_to": "100", "k": "3"}])


def test_ties_at_half_round_up(tmp_path: Path) -> None:
    # 75 x 1.00003 = 75.00225 -> 75.0023 (half-even would give 75.0022); 0.06 x 3 / 8000 x 100 = 0.00225
    out = run(tmp_path, [case("n", "A1", "2000", hospital="H9"), case("i", "0000", "0.06")],
              hospitals={"H9": {"coefficient": "1.00003"}})
    assert kinds_and_points(out) == {"n": ("normal", "75.0023"), "i": ("by_item", "0.0023")}


def test_coefficients_come_from_the_hospital_else_the_level(tmp_path: Path) -> None:
    out = run(tmp_path, [case("a", "A1", "2000", hospital="H1", level=2), case("b", "A1", "2000", hospital="H2",
                                                                            level="2")],
              levels={"2": {"coefficient": "0.9"}}, hospitals={"H1": {"coefficient": "1.1"}})
    assert kinds_and_points(out) == {"a": ("normal", "82.5000"), "b": ("normal", "67.5000")}


def test_high_points_use_the_coefficient_only_on_the_base(tmp_path: Path) -> None:
    # 150 x 0.9 + (13000 / 4000 - 3) x 150 = 135 + 37.5
    out = run(tmp_path, [case("h", "B1", "13000", level=2)], levels={"2": {"coefficient": "0.9"}})
    assert kinds_and_points(out) == {"h": ("high", "172.5000")}


@pytest.mark.parametrize(("gap_days", "halved"), [(0, True), (1, True), (15, True), (16, False)])
def test_a_stay_followed_by_a_readmission_within_the_window_is_halved(tmp_path: Path, gap_days: int,
                                                                     halved: bool) -> None:
    second_adm = f"2026-03-{5 + gap_days:02d}" if 5 + gap_days <= 31 else "2026-04-01"
    stays = [case("s1", "A1", "2000", psn="P1", adm="2026-03-01", dscg="2026-03-05"),
             case("s2", "A1", "2000", psn="P1", adm=second_adm, dscg="2026-04-25")]
    out = run(tmp_path, stays, readmission_days=15)
    assert out["cases"]["s1"]["halved"] == ("1" if halved else "0")
    assert out["cases"]["s1"]["points"] == ("37.5000" if halved else "75.0000")
    assert out["cases"]["s2"]["halved"] == "0"


def test_readmission_needs_the_same_group_person_and_hospital_and_a_window(tmp_path: Path) -> None:
    stays = [case("a1", "A1", "2000", psn="P1", dscg="2026-03-05"),
             case("a2", "B1", "4000", psn="P1", adm="2026-03-06", dscg="2026-03-08"),  # other group
             case("b1", "A1", "2000", psn="P2", hospital="H1"),
             case("b2", "A1", "2000", psn="P2", hospital="H2", adm="2026-03-06", dscg="2026-03-07"),
             case("c1", "A1", "2000", psn="P3"),
             case("c2", "A1", "2000", psn="P3", adm="2026-03-06", dscg="2026-03-07")]
    assert {c for c, r in run(tmp_path / "on", stays, readmission_days=15)["cases"].items()
            if r["halved"] == "1"} == {"c1"}
    assert {c for c, r in run(tmp_path / "off", stays)["cases"].items() if r["halved"] == "1"} == set()


def test_readmission_order_is_admission_date_then_case_id_and_halving_rounds_half_up(tmp_path: Path) -> None:
    # same admission day: z-first sorts after a-first; 75 x 1.000028 = 75.0021 -> halved 37.50105 -> 37.5011
    stays = [case("z", "A1", "2000", psn="P1", adm="2026-03-01", dscg="2026-03-01", hospital="H9"),
             case("a", "A1", "2000", psn="P1", adm="2026-03-01", dscg="2026-03-01", hospital="H9")]
    out = run(tmp_path, stays, readmission_days=15, hospitals={"H9": {"coefficient": "1.000028"}})
    assert kinds_and_points(out) == {"a": ("normal", "37.5011"), "z": ("normal", "75.0021")}


def test_only_normal_high_and_low_stays_are_halved_but_any_next_stay_counts(tmp_path: Path) -> None:
    stays = [case("s1", "A1", "2000", psn="P1", dscg="2026-03-05"),
             case("s2", "A1", "2000", psn="P1", adm="2026-03-07", dscg="2026-03-09"),  # special, follows s1
             case("s3", "A1", "2000", psn="P1", adm="2026-03-10", dscg="2026-03-11")]
    out = run(tmp_path, stays + [case(f"x{i}", "B1", "4000") for i in range(17)], readmission_days=15,
              special_cases={"approved": ["s2"]})
    assert (out["cases"]["s1"]["halved"], out["cases"]["s2"]["halved"]) == ("1", "0")
    assert out["cases"]["s2"]["kind"] == "special" and out["cases"]["s2"]["rw"] == "0.7500"
    assert out["cases"]["s2"]["base_points"] == ""


def test_special_cases_may_reach_the_cap_but_not_exceed_it(tmp_path: Path) -> None:
    cases = [case(f"c{i:02d}", "A1", "2000") for i in range(40)]  # cap = floor(0.05 x 40) = 2
    out = run(tmp_path / "ok", cases, special_cases={"approved": ["c00", "c01"]})
    assert out["cases"]["c00"]["kind"] == "special" and out["cases"]["c00"]["points"] == "75.0000"
    with pytest.raises(CalculationError, match="cap"):
        run(tmp_path / "over", cases, special_cases={"approved": ["c00", "c01", "c02"]})
    with pytest.raises(CalculationError, match=r"special_cases\.approved"):
        run(tmp_path / "unknown", cases, special_cases={"approved": ["nope"]})


def test_point_value_statements_and_balances(tmp_path: Path) -> None:
    cases = [case("c1", "A1", "2000", fund="1500", dscg="2026-03-05"),
             case("c2", "B1", "4000", fund="3000", adm="2026-04-01", dscg="2026-04-02"),
             case("c3", "A1", "2000", fund="1000", hospital="H2")]
    out = run(tmp_path, cases, budget="100000.00", adjustment_share="0.05", provisional_point_value="400",
              advance_share="0.9", hospitals={"H1": {"assessment": "0.957", "deductions": "100.50"}})
    # total 300 points; fund ratio 5500/8000 = 0.6875; 95000 / 0.6875 / 300 = 460.6060606 -> 460.606061
    assert out["summary"] == {"method": "points", "cases": 3, "avg_all": "2666.67", "total_points": "300.0000",
                              "fund_ratio": "0.687500", "point_value": "460.606061", "sum_balance": "17585.75"}
    # H1: 225 x 460.606061 x 0.6875 = 71250.00006 -> assessed x 0.957; advances 18562.50 + 37125.00
    assert out["hospitals"]["H1"] == {"hospital": "H1", "cases": "2", "points": "225.0000", "cmi": "1.1250",
                                      "gross": "71250.00", "assessed": "68186.25", "advances": "55687.50",
                                      "deductions": "100.50", "balance": "12398.25", "surplus": ""}
    assert out["hospitals"]["H2"]["balance"] == "5187.50"


def test_cmi_counts_weighted_groups_only_and_is_zero_without_any(tmp_path: Path) -> None:
    out = run(tmp_path, [case("a", "A1", "2000"), case("b", "0000", "50"), case("c", "B1", "4000"),
                         case("d", "0000", "10", hospital="H2")])
    assert out["hospitals"]["H1"]["cmi"] == "1.1250"  # (0.75 + 1.5) / 2
    assert out["hospitals"]["H2"]["cmi"] == "0.0000"


def test_advances_are_per_discharge_month_even_across_distant_years(tmp_path: Path) -> None:
    cases = [case("a", "A1", "2000", adm="0001-01-01", dscg="0001-01-02"),
             case("b", "A1", "2000", adm="9999-12-01", dscg="9999-12-02"),
             *(case(f"h{i}", "A1", "2000", hospital=f"H{i:02d}") for i in range(12))]
    out = run(tmp_path, cases, provisional_point_value="1", advance_share="1")
    # fund ratio 1: each month's 75 points x 1 x 1 x 1 -> 75.00, twice for H1
    assert out["hospitals"]["H1"]["advances"] == "150.00"
    assert out["hospitals"]["H05"]["advances"] == "75.00"
