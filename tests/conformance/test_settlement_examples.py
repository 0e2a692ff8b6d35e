"""Every example of ../shared/settlement/examples gives byte-identical outputs, through `simulate` in-process and
through the straightforward decimal baseline (so the baseline the cross-checks trust is itself anchored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.settlement_reference import simulate as reference
from services.settlement.service_layer.simulation import SimulationInputs, simulate

from ..support import SHARED, shared_or_skip

EXAMPLES = ["dip-points", "drg-points", "drg-rate"]
OUTPUTS = ["weights.csv", "cases.csv", "hospitals.csv", "summary.json"]


def example(name: str) -> Path:
    shared_or_skip()
    return SHARED / "settlement" / "examples" / name


@pytest.mark.parametrize("name", EXAMPLES)
def test_simulate_reproduces_the_example_byte_for_byte(name: str, tmp_path: Path) -> None:
    folder = example(name)
    simulate(SimulationInputs(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json"), tmp_path)
    for output in OUTPUTS:
        assert (tmp_path / output).read_bytes() == (folder / "expected" / output).read_bytes(), output


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_decimal_baseline_reproduces_the_example(name: str) -> None:
    folder = example(name)
    got = reference(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json")
    assert {o: got[o] for o in OUTPUTS} == {o: (folder / "expected" / o).read_bytes() for o in OUTPUTS}
