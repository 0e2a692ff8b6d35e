"""FORMAT's rounding rules where the three examples do not reach them, by hand: ties at the place FORMAT rounds
to (half up, where half-even or a float would answer one unit less), values FORMAT uses unrounded (``avg_all``,
the rate before the standard is not, the fund ratio is), and roundings that happen per item, not on the sum
(each month's advance, the halving of already rounded points). Every expected figure is worked in a comment;
each test also holds the straightforward decimal baseline (benchmarks/settlement_reference.py) to the same
bytes, so a disagreement names which side misread FORMAT.

SMALL_HISTORY: A1 1000 and 3000 (avg 2000), B1 4000, all 2025 level 3: avg_all = 8000/3 = 2666.666...,
RW_A1 = 0.75, RW_B1 = 1.5, standards 2000.00 and 4000.00; BP 75 and 150 at scale 100."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.settlement_reference import simulate as reference

from .builders import BASE, SMALL_HISTORY, case, past, rows, write
from .builders import run as simulate_run


def run(tmp: Path, cases: list[dict[str, Any]], history: list[dict[str, Any]] | None = None,
        **params: Any) -> dict[str, Any]:
    """Simulate, and check that the decimal baseline writes the very same four files."""
    out = simulate_run(tmp, cases, history, **params)
    inputs = write(tmp / "in", cases, SMALL_HISTORY if history is None else history, {**BASE, **params})
    expected = reference(inputs.cases, inputs.history, inputs.params)
    assert {name: (tmp / "out" / name).read_bytes() for name in expected} == expected
    return out


def test_a_standard_cost_and_avg_all_on_a_half_fen_round_up(tmp_path: Path) -> None:
    # C: 1000.00 and 1000.01 -> avg_g = avg_all = 1000.005: std 1000.01 and summary avg_all 1000.01 (half-even:
    # 1000.00); RW = 1.0000.
    out = run(tmp_path, [case("c", "C", "1000")], [past("C", "1000.00"), past("C", "1000.01")])
    assert out["weights"]["C"] == {"group": "C", "kept_cases": "2", "avg_cost": "1000.01", "rw": "1.0000",
                                   "source": "data"}
    assert out["summary"]["avg_all"] == "1000.01"


def test_a_relative_weight_on_a_half_ten_thousandth_rounds_up(tmp_path: Path) -> None:
    # A 10000.50, B 9999.50: avg_all 10000.00; RW_A = round_4(1.00005) = 1.0001 (half-even: 1.0000),
    # RW_B = round_4(0.99995) = 1.0000.
    out = run(tmp_path, [case("a", "A", "10000.50")], [past("A", "10000.50"), past("B", "9999.50")])
    assert (out["weights"]["A"]["rw"], out["weights"]["B"]["rw"]) == ("1.0001", "1.0000")
    assert out["cases"]["a"]["base_points"] == "100.0100"


def test_a_fixed_group_without_data_takes_its_standard_from_the_unrounded_avg_all(tmp_path: Path) -> None:
    # std_Z = round_2(3 x 8000/3) = 8000.00; from the shown avg_all it would be 3 x 2666.67 = 8000.01.
    out = run(tmp_path, [case("z", "Z9", "8000")], weights={"years": [2025], "fixed": {"Z9": "3.0000"}})
    assert out["weights"]["Z9"] == {"group": "Z9", "kept_cases": "0", "avg_cost": "8000.00", "rw": "3.0000",
                                    "source": "fixed"}
    assert (out["cases"]["z"]["kind"], out["cases"]["z"]["points"]) == ("normal", "300.0000")


def test_by_item_points_divide_by_the_unrounded_avg_all(tmp_path: Path) -> None:
    # 100000 / (8000/3) x 100 = 3750 exactly; 100000 / 2666.67 x 100 would be 3749.9953.
    out = run(tmp_path, [case("i", "0000", "100000")])
    assert (out["cases"]["i"]["kind"], out["cases"]["i"]["points"], out["cases"]["i"]["rw"]) == (
        "by_item", "3750.0000", "")


def test_halving_halves_the_rounded_points(tmp_path: Path) -> None:
    # A low stay of 0.06: 75 x 0.06 / 2000 = 0.00225 -> 0.0023; readmitted, round_4(0.0023 / 2) = 0.0012,
    # where halving the unrounded points would give round_4(0.001125) = 0.0011.
    stays = [case("s1", "A1", "0.06", psn="P1", dscg="2026-03-05"),
             case("s2", "A1", "2000", psn="P1", adm="2026-03-10", dscg="2026-03-12")]
    out = run(tmp_path, stays, readmission_days=15)
    assert (out["cases"]["s1"]["kind"], out["cases"]["s1"]["points"], out["cases"]["s1"]["halved"]) == (
        "low", "0.0012", "1")


def test_the_fund_ratio_is_rounded_before_the_point_value_and_the_gross_use_it(tmp_path: Path) -> None:
    # 16 stays of 2000 (1200 points), fund 22000.08 of 32000: 0.6875025 -> 0.687503 (half-even: 0.687502).
    # point_value = round_6(100000 / 0.687503 / 1200) = 121.211592 (121.211680 with the unrounded ratio);
    # gross = round_2(1200 x 121.211592 x 0.687503) = 100000.00.
    stays = [case(f"c{i:02d}", "A1", "2000", fund="1375.08" if i == 0 else "1375") for i in range(16)]
    out = run(tmp_path, stays, budget="100000.00")
    assert (out["summary"]["fund_ratio"], out["summary"]["point_value"]) == ("0.687503", "121.211592")
    assert out["hospitals"]["H1"]["gross"] == "100000.00"


def test_the_cmi_of_a_half_ten_thousandth_rounds_up(tmp_path: Path) -> None:
    # (0.7500 + 1.5001) / 2 = 1.12505 -> 1.1251 (half-even: 1.1250); B1's weight is fixed over its data.
    out = run(tmp_path, [case("a", "A1", "2000"), case("b", "B1", "4000")],
              weights={"years": [2025], "fixed": {"B1": "1.5001"}})
    assert out["hospitals"]["H1"]["cmi"] == "1.1251"
    assert out["weights"]["B1"]["avg_cost"] == "4000.00"  # a fixed group with data keeps its own std


def test_each_months_advance_is_rounded_not_the_years(tmp_path: Path) -> None:
    # A 1000, B 3000: avg_all 2000, RW_A = 0.5, BP 50. Fund ratio 1, ppv 0.0001, share 1: each month
    # 50 x 0.0001 = 0.005 -> 0.01 (two months: 0.02; the year's sum rounded once would be 0.01).
    # At share 0.6 a month's 0.003 -> 0.00 (twice 0.00, where the year's 0.006 -> 0.01).
    history = [past("A", "1000"), past("B", "3000")]
    stays = [case("m3", "A", "1000", dscg="2026-03-31"), case("m4", "A", "1000", adm="2026-04-01",
                                                               dscg="2026-04-01")]
    out = run(tmp_path / "tie", stays, history, provisional_point_value="0.0001", advance_share="1")
    assert out["hospitals"]["H1"]["advances"] == "0.02"
    out = run(tmp_path / "below", stays, history, provisional_point_value="0.0001", advance_share="0.6")
    assert out["hospitals"]["H1"]["advances"] == "0.00"


def test_rate_ties_the_rate_rounded_before_the_standard_and_fund_due_never_negative(tmp_path: Path) -> None:
    # rate_3 = round_2(0.999999375 x 8000 / 3) = round_2(2666.665) = 2666.67 (half-even: 2666.66);
    # B1's standard = round_2(1.5 x 2666.67) = round_2(4000.005) = 4000.01 (from the unrounded rate: 4000.00).
    # b: 4000.01 is normal (basis 4000.01), personal 4100 -> fund due max(0, -99.99) = 0.00;
    # a: A1 2500 -> basis round_2(0.75 x 2666.67) = 2000.00, surplus 2000 - 2500 = -500.00.
    cases = [case("a", "A1", "2500"), case("b", "B1", "4000.01", personal="4100")]
    out = run(tmp_path, cases, method="rate", rates={"adjust": "0.999999375"})
    assert out["summary"]["rates"] == {"3": "2666.67"}
    assert {cid: (r["kind"], r["standard"], r["basis"], r["fund_due"]) for cid, r in out["cases"].items()} == {
        "a": ("normal", "2000.00", "2000.00", "2000.00"), "b": ("normal", "4000.01", "4000.01", "0.00")}
    assert (out["hospitals"]["H1"]["gross"], out["hospitals"]["H1"]["surplus"]) == ("2000.00", "-500.00")


def test_rate_advances_per_month_and_the_assessment_on_half_a_fen(tmp_path: Path) -> None:
    # Fixed rate 2000.00: A1's standard 1500.00. H1: two months of fund due 1.01 (personal 1498.99), share 0.5:
    # 0.505 -> 0.51 each, advances 1.02 (1.01 on the year's sum). H2: due 2.01 x assessment 0.5 = 1.005 -> 1.01.
    cases = [case("m3", "A1", "1500", personal="1498.99"),
             case("m4", "A1", "1500", personal="1498.99", adm="2026-04-01", dscg="2026-04-02"),
             case("h2", "A1", "1500", personal="1497.99", hospital="H2")]
    out = run(tmp_path, cases, method="rate", rates={"fixed": {"3": "2000.00"}}, advance_share="0.5",
              hospitals={"H2": {"assessment": "0.5"}})
    h1, h2 = out["hospitals"]["H1"], out["hospitals"]["H2"]
    assert (h1["gross"], h1["assessed"], h1["advances"], h1["balance"]) == ("2.02", "2.02", "1.02", "1.00")
    assert (h2["gross"], h2["assessed"], h2["advances"], h2["balance"]) == ("2.01", "1.01", "1.01", "0.00")


def test_duplicate_approved_ids_count_once_against_the_cap(tmp_path: Path) -> None:
    # 20 cases: cap floor(0.05 x 20) = 1; the one id listed twice is one distinct approval.
    stays = [case(f"c{i:02d}", "A1", "2000") for i in range(20)]
    out = run(tmp_path, stays, special_cases={"approved": ["c03", "c03"]})
    assert out["cases"]["c03"]["kind"] == "special"
    assert rows(tmp_path / "out" / "cases.csv")["c04"]["kind"] == "normal"
