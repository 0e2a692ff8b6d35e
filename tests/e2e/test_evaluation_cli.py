"""`medpay evaluation indicators` as an operator runs it: output file, and a bad line as a message, not a trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from ..support import ROOT
from ..unit.evaluation.support import case, write_inputs


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", "evaluation", "indicators", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)


def test_a_bad_line_exits_2_naming_file_line_and_field_and_writes_nothing(tmp_path: Path) -> None:
    cases_file, weights_file = write_inputs(tmp_path, [case("a"), case("b", person="P2")], {"G1": "1.0000"})
    bad = case("c")
    bad["dscg_way"] = "8"
    cases_file.write_bytes(cases_file.read_bytes() + orjson.dumps(bad) + b"\n")
    done = run("--cases", str(cases_file), "--weights", str(weights_file), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert f"{cases_file}:3: field 'dscg_way' must be one of 1, 2, 3, 4, 5 (died) or 9, got \"8\"" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_good_files_give_a_csv_and_a_one_line_summary(tmp_path: Path) -> None:
    cases_file, weights_file = write_inputs(tmp_path, [case("a"), case("b", person="P2")], {"G1": "1.0000"})
    done = run("--cases", str(cases_file), "--weights", str(weights_file), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "out" / "indicators.csv").read_text().splitlines()
    assert lines[1] == "region,ALL,2,2,1.0000,1,2.0000,1.0000,1.0000,1.0000,0,0,,0.0000"
    assert "2 cases -> 4 rows" in done.stderr
