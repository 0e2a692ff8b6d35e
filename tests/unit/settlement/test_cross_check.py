"""services/settlement against the straightforward decimal baseline (benchmarks/settlement_reference.py) on
generated scenarios: every output byte equal, or both refuse the inputs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.settlement_reference import ReferenceError
from benchmarks.settlement_reference import simulate as reference
from benchmarks.settlement_scenarios import Scenario, generate
from libs.common.errors import MedpayError
from services.settlement.service_layer.simulation import SimulationInputs, simulate

scenarios = st.builds(
    Scenario, seed=st.integers(0, 10**6), cases=st.integers(1, 90), history=st.integers(0, 400),
    groups=st.integers(2, 9), hospitals=st.integers(1, 4), persons=st.sampled_from([0, 3, 10]),
    method=st.sampled_from(["points", "rate"]), scale=st.sampled_from([100, 1000]), edgy=st.booleans(),
    readmission_days=st.sampled_from([0, 1, 15]), min_cases=st.integers(1, 12), special_share=st.just(0.02),
    at_cap=st.booleans())


def outcome(scenario: Scenario) -> tuple[dict[str, bytes] | None, dict[str, bytes] | None, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate(scenario, Path(tmp) / "in")
        inputs = SimulationInputs(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json")
        expected, refused = None, ""
        try:
            expected = reference(inputs.cases, inputs.history, inputs.params)
        except ReferenceError as error:
            refused = str(error)
        got, failed = None, ""
        try:
            simulate(inputs, Path(tmp) / "out")
            got = {name: (Path(tmp) / "out" / name).read_bytes() for name in expected or {}}
        except MedpayError as error:
            failed = error.message
        return expected, got, refused, failed


@settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_simulate_equals_the_decimal_baseline(scenario: Scenario) -> None:
    expected, got, refused, failed = outcome(scenario)
    assert bool(refused) == bool(failed), (refused, failed)
    if expected is not None:
        assert got == expected


def test_the_generated_scenarios_reach_every_kind_and_rule() -> None:
    """The cross-check is only as good as its scenarios: they must produce every kind, halving and ties."""
    seen: set[str] = set()
    for seed in range(4):
        scenario = Scenario(seed=seed, cases=300, history=1500, groups=15, hospitals=5, edgy=True, min_cases=5,
                            at_cap=True)
        expected, _, refused, _ = outcome(scenario)
        assert expected is not None, refused
        for line in expected["cases.csv"].decode().splitlines()[1:]:
            fields = line.rsplit(",", 7)
            seen.add(fields[0].rsplit(",", 1)[-1])
            seen.add("halved" if fields[-1] == "1" else "")
    assert {"normal", "high", "low", "by_item", "special", "halved"} <= seen
