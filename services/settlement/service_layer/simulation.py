"""`simulate`: the whole calculation on files, in-process (FORMAT.md's command)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..adapters.case_files import read_cases, read_history
from ..adapters.files import read_policy, write_outputs
from ..domain.calculation import settle
from ..domain.outputs import output_files
from ..domain.results import Settlement
from ..domain.weights import compute_weights

Stage = Callable[[str, int], None]
"""Progress: a stage name and how many records of it are done."""


@dataclass(frozen=True)
class SimulationInputs:
    cases: Path
    history: Path
    params: Path


def simulate(inputs: SimulationInputs, out_dir: Path, stage: Stage | None = None) -> Settlement:
    """Read, compute and write the four files; on any error nothing is written and the error propagates."""
    def report(name: str) -> Callable[[int], None] | None:
        return None if stage is None else (lambda done: stage(name, done))

    policy = read_policy(inputs.params)
    history = read_history(inputs.history, progress=report("history"))
    cases = read_cases(inputs.cases, policy, progress=report("cases"))
    weights = compute_weights(history, policy.weights)
    settlement = settle(policy, weights, cases, progress=report("settle"))
    write_outputs(out_dir, output_files(settlement, weights, cases))
    return settlement
