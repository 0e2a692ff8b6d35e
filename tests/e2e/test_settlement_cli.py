"""`medpay settlement simulate` as a process: outputs on success; on bad input a message naming file, line and
field, a non-zero exit, no traceback and an untouched OUTDIR."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..unit.settlement.builders import BASE, SMALL_HISTORY, case, write
from .test_cli import medpay


def test_simulate_writes_the_four_files(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", [case("c1", "A1", "2000"), case("c2", "B1", "4000")], SMALL_HISTORY, BASE)
    out = medpay("settlement", "simulate", "--cases", str(inputs.cases), "--history", str(inputs.history),
                 "--params", str(inputs.params), "--out", str(tmp_path / "out"), env={})
    assert out.returncode == 0, out.stderr
    assert "2 cases, 1 hospitals" in out.stdout and out.stderr == ""  # piped: no progress bar in the way
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["total_points"] == "225.0000"


def test_simulate_draws_its_progress_on_a_terminal(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", [case(f"c{i}", "A1", "2000") for i in range(50)], SMALL_HISTORY, BASE)
    out = medpay("settlement", "simulate", "--cases", str(inputs.cases), "--history", str(inputs.history),
                 "--params", str(inputs.params), "--out", str(tmp_path / "out"),
                 env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert out.returncode == 0, out.stderr
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.stderr)
    assert re.search(r"^reading .*━", drawn.strip()), drawn  # drawn at once, then as often as it refreshes
    assert re.search(r"settling .*━.* \d+ cases", drawn), drawn  # and in its last state before it goes


def test_a_bad_line_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    bad = dict(case("c2", "B1", "4000"), total_cost="4000.001")
    inputs = write(tmp_path / "in", [case("c1", "A1", "2000"), bad], SMALL_HISTORY, BASE)
    out = medpay("settlement", "simulate", "--cases", str(inputs.cases), "--history", str(inputs.history),
                 "--params", str(inputs.params), "--out", str(tmp_path / "out"), env={})
    assert out.returncode != 0
    assert f"{inputs.cases}:2: total_cost:" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()


def test_a_bad_parameter_and_a_missing_file_are_messages(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", [case("c1", "A1", "2000")], SMALL_HISTORY, {**BASE, "low_ratio": "x"})
    out = medpay("settlement", "simulate", "--cases", str(inputs.cases), "--history", str(inputs.history),
                 "--params", str(inputs.params), "--out", str(tmp_path / "out"), env={})
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert f"{inputs.params}: low_ratio: " in out.stderr
    inputs = write(tmp_path / "in", [case("c1", "A1", "2000")], SMALL_HISTORY, BASE)
    out = medpay("settlement", "simulate", "--cases", str(tmp_path / "nope.jsonl"), "--history",
                 str(inputs.history), "--params", str(inputs.params), "--out", str(tmp_path / "out"), env={})
    assert out.returncode != 0 and "nope.jsonl" in out.stderr and "Traceback" not in out.stderr


def test_run_refuses_a_month_or_year_that_is_not_one_before_calling_the_service(tmp_path: Path) -> None:
    policy = tmp_path / "params.json"
    policy.write_text(json.dumps(BASE))
    for option, value in (("--month", "13"), ("--month", "0"), ("--year", "0"), ("--year", "20x5")):
        args = {"--year": "2025", "--month": "3", option: value}
        out = medpay("settlement", "run", "--region", "330700", "--policy", str(policy),
                     *(a for pair in args.items() for a in pair), env={"MEDPAY_SETTLEMENT_ADDRESS": "127.0.0.1:1"})
        assert out.returncode == 2 and f"argument {option}: '{value}' is not a" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
