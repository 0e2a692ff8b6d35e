"""FORMAT step 1 by hand: trimming at nearest ranks, year weights, minimum cases, fixed weights."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from services.settlement.domain.errors import CalculationError

from .builders import case, past, run


def test_weights_are_year_weighted_means_of_yearly_means(tmp_path: Path) -> None:
    # A: 2024 mean 150, 2025 mean 300 -> (150 + 3 x 300) / 4 = 262.5; B: 2025 only -> 500.
    # avg_all: 2024 mean 150, 2025 mean (300 + 500) / 2 = 400 -> (150 + 3 x 400) / 4 = 337.5
    history = [past("A", "100", year=2024), past("A", "200", year=2024), past("A", "300"), past("B", "500")]
    out = run(tmp_path, [case("c1", "A", "262.50")], history,
              weights={"years": [2024, 2025], "year_weights": [1, 3]})
    assert out["weights"]["A"] == {"group": "A", "kept_cases": "3", "avg_cost": "262.50", "rw": "0.7778",
                                   "source": "data"}
    assert out["weights"]["B"]["rw"] == "1.4815"  # 500 / 337.5 = 1.48148...
    assert out["summary"]["avg_all"] == "337.50"


def test_history_outside_the_base_years_and_unweightable_groups_are_ignored(tmp_path: Path) -> None:
    history = [past("A", "100"), past("A", "900", year=2022), past("0000", "50"), past("AQY", "50"),
               past("X", "70")]
    out = run(tmp_path, [case("c1", "A", "100")], history,
              weights={"years": [2025], "exclude": ["X"]})
    assert set(out["weights"]) == {"A"}
    assert out["weights"]["A"]["kept_cases"] == "1" and out["weights"]["A"]["rw"] == "1.0000"


@pytest.mark.parametrize(("trim", "kept"), [([10, 90], 9), ([15, 85], 8), ([0, 100], 10), ([2.5, 97.5], 10)])
def test_trimming_keeps_costs_between_the_nearest_rank_percentiles(tmp_path: Path, trim: list[float],
                                                                   kept: int) -> None:
    # ten costs 100..1000: [10, 90] -> ranks 1 and 9; [15, 85] -> ranks ceil(1.5) = 2 and ceil(8.5) = 9
    history = [past("A", str(100 * i)) for i in range(1, 11)]
    out = run(tmp_path, [case("c1", "A", "100")], history,
              weights={"years": [2025], "trim_percentiles": trim})
    assert out["weights"]["A"]["kept_cases"] == str(kept)


def test_costs_equal_to_a_trim_bound_are_all_kept(tmp_path: Path) -> None:
    history = [past("A", "100"), past("A", "100"), past("A", "100"), past("A", "500")]
    out = run(tmp_path, [case("c1", "A", "100")], history,
              weights={"years": [2025], "trim_percentiles": [50, 50]})  # rank 2 -> 100 both ends
    assert out["weights"]["A"]["kept_cases"] == "3" and out["weights"]["A"]["avg_cost"] == "100.00"


def test_groups_below_min_cases_are_not_weighted_and_fixed_ones_use_avg_all(tmp_path: Path) -> None:
    history = [past("A", "1000"), past("A", "3000"), past("A", "2000"), past("B", "4000"), past("F", "9999")]
    out = run(tmp_path, [case("c1", "B", "4000"), case("c2", "F", "100"), case("c3", "Z", "100")], history,
              weights={"years": [2025], "min_cases": 2, "fixed": {"F": "0.5", "Z": "1.2345", "A": "2"}})
    w = out["weights"]
    assert "B" not in w  # one kept case < min_cases 2
    assert w["F"] == {"group": "F", "kept_cases": "1", "avg_cost": "1000.00", "rw": "0.5000", "source": "fixed"}
    assert w["Z"] == {"group": "Z", "kept_cases": "0", "avg_cost": "2469.00", "rw": "1.2345", "source": "fixed"}
    assert w["A"] == {"group": "A", "kept_cases": "3", "avg_cost": "2000.00", "rw": "2.0000", "source": "fixed"}
    assert out["summary"]["avg_all"] == "2000.00"  # only A is weighted from data; fixed A still counts
    assert out["cases"]["c1"]["kind"] == "by_item" and out["cases"]["c1"]["rw"] == ""
    assert out["cases"]["c2"]["kind"] == "low" and out["cases"]["c3"]["kind"] == "low"


def test_a_weighted_group_with_a_standard_cost_of_zero_fails(tmp_path: Path) -> None:
    history = [past("A", "1000"), past("Z", "0")]
    with pytest.raises(CalculationError, match=r"weights\.Z"):
        run(tmp_path, [case("c1", "A", "100")], history)
    with pytest.raises(CalculationError, match=r"weights\.F"):
        run(tmp_path, [case("c1", "A", "100")], [past("A", "1000")],
            weights={"years": [2025], "fixed": {"F": "0"}})


def test_a_history_without_any_group_weighted_from_data_fails(tmp_path: Path) -> None:
    with pytest.raises(CalculationError, match="avg_all"):
        run(tmp_path, [case("c1", "A", "100")], [past("A", "1000")], weights={"years": [2025], "min_cases": 2})


def test_scaling_every_cost_leaves_the_weights_unchanged(tmp_path: Path) -> None:
    costs = ["1000", "1234.56", "2000.01", "777.77", "3100", "45.5", "999.99"]
    history = [past(g, c, year=y) for g in ("A", "B") for y in (2024, 2025) for c in costs[: 4 + (g == "B")]]
    params = {"weights": {"years": [2024, 2025], "year_weights": [1, 3], "trim_percentiles": [10, 90]}}
    one = run(tmp_path / "1", [case("c1", "A", "100")], history, **params)
    tripled = [dict(h, total_cost=str(Decimal(h["total_cost"]) * 3)) for h in history]
    three = run(tmp_path / "3", [case("c1", "A", "100")], tripled, **params)
    assert {g: w["rw"] for g, w in one["weights"].items()} == {g: w["rw"] for g, w in three["weights"].items()}
