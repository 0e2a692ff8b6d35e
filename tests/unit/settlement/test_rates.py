"""The rate method by hand. SMALL_HISTORY is all level 3 in 2025: S_cost = 8000, S_rw = 0.75 + 0.75 + 1.5 = 3,
so rate_3 = 8000 / 3 = 2666.67 (x adjust)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settlement.domain.errors import CalculationError

from .builders import case, past, run


def rate_run(tmp: Path, cases: list[dict[str, object]], history: list[dict[str, object]] | None = None,
             **params: object) -> dict[str, object]:
    merged = {"method": "rate", **params}
    out = run(tmp, cases, history, **merged)
    return out


def test_rates_come_from_the_latest_base_year_of_each_level(tmp_path: Path) -> None:
    history = [past("A1", "1000"), past("A1", "3000"), past("B1", "4000"), past("A1", "500", year=2024),
               past("A1", "2000", level=2)]
    out = rate_run(tmp_path, [case("a", "A1", "2000"), case("b", "A1", "2000", level=2)], history,
                   weights={"years": [2024, 2025]}, levels={"2": {}, "3": {}}, rates={"adjust": "0.98"})
    # A1: 2024 mean 500, 2025 mean 2000 -> 1250; B1 4000; avg_all (500 + 2500) / 2 = 1500: RW 0.8333, 2.6667.
    # 2025 only: level 3 = 0.98 x 8000 / (2 x 0.8333 + 2.6667) = 1809.2446...; level 2 = 0.98 x 2000 / 0.8333
    assert (out["weights"]["A1"]["rw"], out["weights"]["B1"]["rw"]) == ("0.8333", "2.6667")
    assert out["summary"]["rates"] == {"2": "2352.09", "3": "1809.24"}


def test_standard_outliers_fund_due_and_surplus(tmp_path: Path) -> None:
    cases = [case("n", "A1", "2000", personal="500"), case("h", "A1", "8000.01", personal="100"),
             case("l", "A1", "1066.66", personal="66.66"), case("z", "A1", "2000", personal="2500"),
             case("i", "0000", "300", personal="100")]
    out = rate_run(tmp_path, cases, advance_share="0.9", hospitals={"H1": {"assessment": "0.99"}})
    assert out["summary"]["rates"] == {"3": "2666.67"}
    got = {cid: (r["kind"], r["standard"], r["basis"], r["fund_due"], r["points"], r["base_points"])
           for cid, r in out["cases"].items()}
    assert got == {  # standard = round_2(0.75 x 2666.67) = 2000.00; high above 3 x, low below 0.4 x
        "n": ("normal", "2000.00", "2000.00", "1500.00", "", ""),
        "h": ("high", "2000.00", "8000.01", "7900.01", "", ""),
        "l": ("normal", "2000.00", "2000.00", "1933.34", "", ""),
        "z": ("normal", "2000.00", "2000.00", "0.00", "", ""),
        "i": ("by_item", "", "300.00", "200.00", "", ""),
    }
    h1 = out["hospitals"]["H1"]
    assert (h1["points"], h1["gross"], h1["assessed"], h1["advances"], h1["surplus"]) == \
        ("", "11533.35", "11418.02", "10380.02", "933.34")  # x 0.99 = 11418.0165; x 0.9 = 10380.015


def test_low_is_strictly_below_the_low_ratio(tmp_path: Path) -> None:
    out = rate_run(tmp_path, [case("at", "A1", "800"), case("below", "A1", "799.99")])
    assert (out["cases"]["at"]["kind"], out["cases"]["below"]["kind"]) == ("normal", "low")
    assert out["cases"]["below"]["basis"] == "799.99"


def test_fixed_rates_override_without_adjustment_and_standards_round_half_up(tmp_path: Path) -> None:
    out = rate_run(tmp_path, [case("a", "A1", "750")], rates={"fixed": {"3": "1000.30"}, "adjust": "0.5"})
    assert out["summary"]["rates"] == {"3": "1000.30"}
    assert out["cases"]["a"]["standard"] == "750.23"  # 0.75 x 1000.30 = 750.225


def test_a_level_with_cases_but_no_history_or_fixed_rate_fails(tmp_path: Path) -> None:
    with pytest.raises(CalculationError, match=r"rates\.fixed\.2"):
        rate_run(tmp_path, [case("a", "A1", "750", level=2)], levels={"2": {}, "3": {}})


def test_special_cases_are_paid_by_item_and_keep_their_weight(tmp_path: Path) -> None:
    cases = [case(f"c{i:02d}", "A1", "2000") for i in range(20)]
    out = rate_run(tmp_path, cases, special_cases={"approved": ["c03"]})
    row = out["cases"]["c03"]
    assert (row["kind"], row["rw"], row["standard"], row["basis"], row["halved"]) == \
        ("special", "0.7500", "", "2000.00", "0")
