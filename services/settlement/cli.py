"""`medpay settlement ...`: the calculation on files (`simulate`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from libs.common.errors import MedpayError
from libs.common.runtime import Runtime

from .domain.errors import ParameterError
from .service_layer.simulation import SimulationInputs, simulate


def add_commands(sub: Any) -> None:
    settlement = sub.add_parser("settlement", help="settlement and clearing (weights, points or rates)")
    cmds = settlement.add_subparsers(dest="settlement_command", required=True)
    sim = cmds.add_parser("simulate", help="run FORMAT.md's calculation on files in-process; writes weights.csv, "
                          "cases.csv, hospitals.csv and summary.json into --out")
    sim.add_argument("--cases", required=True, type=Path, help="the settlement year's cases (JSON lines)")
    sim.add_argument("--history", required=True, type=Path, help="the base years' cases (JSON lines)")
    sim.add_argument("--params", required=True, type=Path, help="the policy (params.json)")
    sim.add_argument("--out", required=True, type=Path, help="output directory (created; left as it was on error)")
    sim.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace, runtime: Runtime) -> int:
    started = time.perf_counter()
    try:
        settlement = simulate(SimulationInputs(args.cases, args.history, args.params), args.out)
    except ParameterError as failed:
        print(f"medpay settlement simulate: {args.params}: {failed.message}", file=sys.stderr)
        return 2
    except MedpayError as failed:
        print(f"medpay settlement simulate: {failed.message}", file=sys.stderr)
        return 2
    except OSError as failed:
        print(f"medpay settlement simulate: {failed.filename or ''}: {failed.strerror}", file=sys.stderr)
        return 2
    cases = sum(h.cases for h in settlement.hospitals)
    print(f"{cases:,} cases, {len(settlement.hospitals)} hospitals ({settlement.method.value} method) -> "
          f"{args.out} in {time.perf_counter() - started:.2f} s")
    return 0
