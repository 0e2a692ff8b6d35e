"""INDICATORS.md's worked example: ``indicators.csv`` byte for byte, from the command and from the reference."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from ..support import ROOT, shared_or_skip
from ..unit.evaluation.reference import indicators_csv as reference_csv


def example() -> Path:
    return shared_or_skip() / "evaluation" / "examples" / "region-b"


def test_the_command_writes_the_expected_indicators_byte_for_byte(tmp_path: Path) -> None:
    folder = example()
    done = subprocess.run([sys.executable, "-m", "services.cli", "evaluation", "indicators",
                           "--cases", str(folder / "cases.jsonl"), "--weights", str(folder / "weights.csv"),
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "indicators.csv").read_bytes() == (folder / "expected_indicators.csv").read_bytes()
    assert "6,000 cases -> 589 rows" in done.stderr


def test_the_independent_reference_agrees_with_the_example() -> None:
    folder = example()
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines() if line.strip()]
    with (folder / "weights.csv").open() as weights_file:
        weights = {row["group"]: row["rw"] for row in csv.DictReader(weights_file)}
    assert reference_csv(cases, weights) == (folder / "expected_indicators.csv").read_text()
