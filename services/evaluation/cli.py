"""`medpay evaluation ...`: performance indicators from files, in-process (no server needed)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from libs.common.runtime import Runtime


def add_commands(sub: Any) -> None:
    evaluation = sub.add_parser("evaluation", help="performance evaluation: indicators per hospital, dept, doctor")
    cmds = evaluation.add_subparsers(dest="evaluation_command", required=True)
    indicators = cmds.add_parser(
        "indicators", help="compute INDICATORS.md's indicators.csv from a cases file and a weights.csv",
        description="Reads discharged cases (JSON lines, .gz allowed) and a settlement run's weights.csv, and "
        "writes DIR/indicators.csv: one row per region, hospital, hospital/dept and doctor.")
    indicators.add_argument("--cases", required=True, type=Path, help="cases file (JSON lines)")
    indicators.add_argument("--weights", required=True, type=Path, help="weights.csv (group,...,rw,...)")
    indicators.add_argument("--out", required=True, type=Path, help="output directory")
    indicators.set_defaults(handler=run_indicators)


def run_indicators(args: argparse.Namespace, runtime: Runtime) -> int:
    from .adapters.indicators.files import (
        InputFileError,
        indicators_csv,
        read_cases,
        read_weights,
        write_text_atomically,
    )
    from .domain.indicators.compute import compute_indicators

    started = time.perf_counter()
    try:
        weights = read_weights(args.weights)
        table = read_cases(args.cases)
    except InputFileError as bad:
        print(f"medpay evaluation indicators: {bad}", file=sys.stderr)
        return 2
    result = compute_indicators(table, weights)
    target = args.out / "indicators.csv"
    write_text_atomically(target, indicators_csv(result.rows))
    print(f"{len(table):,} cases -> {len(result.rows):,} rows in {target} "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0
