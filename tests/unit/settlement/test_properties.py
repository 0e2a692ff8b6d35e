"""The two properties issue #8 names, over generated inputs (hypothesis):

- the hospitals' gross amounts add up to the available budget, up to FORMAT's roundings: each hospital's gross
  is rounded to the fen (at most half a fen each) and the point value to 1e-6 yuan (at most half of that per
  point, times the fund ratio);
- scaling every base-year cost by the same factor leaves every group's weight and kept count unchanged (the
  trimming ranks and the ratio avg_g / avg_all do not move)."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.settlement_scenarios import Scenario, generate
from services.settlement.adapters.files import read_policy
from services.settlement.domain.cases import History
from services.settlement.domain.errors import CalculationError
from services.settlement.domain.policy import policy_from_json
from services.settlement.domain.weights import WeightTable, compute_weights
from services.settlement.service_layer.simulation import SimulationInputs, simulate

point_scenarios = st.builds(
    Scenario, seed=st.integers(0, 10**6), cases=st.integers(1, 150), history=st.integers(50, 400),
    groups=st.integers(2, 9), hospitals=st.integers(1, 6), method=st.just("points"),
    scale=st.sampled_from([100, 1000]), edgy=st.booleans(), readmission_days=st.sampled_from([0, 15]),
    min_cases=st.integers(1, 5), at_cap=st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(point_scenarios)
def test_the_hospitals_gross_adds_up_to_the_available_budget_up_to_rounding(scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate(scenario, Path(tmp) / "in")
        inputs = SimulationInputs(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json")
        try:
            settlement = simulate(inputs, Path(tmp) / "out")
        except CalculationError:
            return  # e.g. no group weighted from data: nothing to add up
        policy = read_policy(inputs.params)
    assert policy.budget is not None and settlement.total_points is not None
    assert settlement.fund_ratio is not None
    available_fen = Fraction(policy.budget) * (1 - Fraction(policy.adjustment_share)) * 100
    total_gross = sum(h.gross for h in settlement.hospitals)
    # half a fen per hospital; half of 1e-6 yuan per point at the fund ratio, in fen; round_2(available): half.
    slack = (Fraction(len(settlement.hospitals), 2) + Fraction(1, 2)
             + Fraction(settlement.total_points, 10**4) * Fraction(settlement.fund_ratio, 10**6) / 2 / 10**4)
    assert abs(total_gross - available_fen) <= slack, (total_gross, available_fen, slack)
    assert sum(h.points or 0 for h in settlement.hospitals) == settlement.total_points


cells = st.lists(st.tuples(st.sampled_from(["A1", "B2", "C3", "D4"]), st.sampled_from([2023, 2024, 2025]),
                           st.sampled_from([1, 2, 3]), st.integers(1, 10**7)), min_size=1, max_size=120)
weight_params = st.fixed_dictionaries({
    "years": st.just([2023, 2024, 2025]),
    "year_weights": st.sampled_from([[1, 1, 1], [1, 2, 7], [0, 1, 3], ["0.5", "1.25", "2"]]),
    "trim_percentiles": st.sampled_from([[0, 100], ["2.5", "97.5"], [10, 90], [25, 75], [50, 50]]),
    "min_cases": st.integers(1, 6),
    "fixed": st.sampled_from([{}, {"B2": "1.2345"}, {"Z9": "0.5000"}])})


def _history(rows: list[tuple[str, int, int, int]], factor: int) -> History:
    history = History()
    for group, year, level, fen in rows:
        history.add(group, year, level, fen * factor)
    return history


def _weights(rows: list[tuple[str, int, int, int]], factor: int, params: dict[str, object]) -> WeightTable | str:
    try:
        return compute_weights(_history(rows, factor), policy_from_json(
            {"method": "rate", "weights": params}).weights)
    except CalculationError as refused:
        return refused.subject


@settings(max_examples=200, deadline=None)
@given(cells, weight_params, st.integers(2, 10**4))
def test_scaling_every_base_year_cost_leaves_the_weights_unchanged(
        rows: list[tuple[str, int, int, int]], params: dict[str, object], factor: int) -> None:
    one, scaled = _weights(rows, 1, params), _weights(rows, factor, params)
    if isinstance(one, str) or isinstance(scaled, str):
        assert one == scaled  # refused alike (no group with enough cases, years that weigh 0)
        return
    assert {g: (w.rw, w.kept_cases, w.source) for g, w in one.groups.items()} == {
        g: (w.rw, w.kept_cases, w.source) for g, w in scaled.groups.items()}
    assert scaled.avg_all == one.avg_all * factor
