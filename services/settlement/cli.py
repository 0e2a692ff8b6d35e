"""`medpay settlement ...`: the calculation on files (`simulate`); runs on the service (`weights`, `run`)."""

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
    add_run_commands(cmds)


def add_run_commands(cmds: Any) -> None:
    weights = cmds.add_parser("weights", help="compute the weight table of a region and year from the base years "
                              "of the case feed (the settlement service's ComputeWeights)")
    _common(weights)
    weights.set_defaults(handler=run_weights)
    run = cmds.add_parser("run", help="settle a month (monthly advance) or a year (year-end clearing) on the "
                          "settlement service; prints the hospitals' statements")
    _common(run)
    run.add_argument("--month", type=_month, help="1-12: the month to advance; without it the year is cleared")
    run.add_argument("--weight-table", default="", help="a weight table name (default: the year's latest)")
    run.add_argument("--sequence", type=int, default=0, help="case feed sequence to read at (default: the head)")
    run.set_defaults(handler=run_settlement)


def _month(text: str) -> int:
    """``--month``: 1 to 12 (argparse names the option and exits 2 otherwise)."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 12:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month 1-12")
    return int(text)


def _year(text: str) -> int:
    """``--year``: a settlement year 1900-9999, as settlement periods take it."""
    if not text.strip().isdigit() or not 1900 <= int(text) <= 9999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year 1900-9999")
    return int(text)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", required=True, help="6-digit region code, e.g. 330700")
    parser.add_argument("--year", required=True, type=_year, help="the settlement year, e.g. 2026")
    parser.add_argument("--policy", required=True, type=Path, help="the policy (FORMAT.md's params.json)")
    parser.add_argument("--dip", action="store_true", help="pay by the cases' DIP groups (a DIP region)")
    parser.add_argument("--institutions", type=Path, help="hospital levels of institutions the coding registry "
                        "does not know: JSON lines with fixmedins_code and hosp_lv (synth's institutions.jsonl)")


def run_weights(args: argparse.Namespace, runtime: Runtime) -> int:
    import asyncio

    from .run_cli import compute_weights_on_service

    return asyncio.run(compute_weights_on_service(args, runtime))


def run_settlement(args: argparse.Namespace, runtime: Runtime) -> int:
    import asyncio

    from .run_cli import settle_on_service

    return asyncio.run(settle_on_service(args, runtime))


_STAGES = {"history": ("reading {history}", "lines"), "cases": ("reading {cases}", "lines"),
           "settle": ("settling", "cases")}
"""simulate's stages as the progress bar names them, and what it counts."""


def run_simulate(args: argparse.Namespace, runtime: Runtime) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    names = {"history": args.history.name, "cases": args.cases.name}
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f} {task.fields[unit]}"),
               TimeElapsedColumn())
    try:
        console = Console(stderr=True, soft_wrap=True)
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("reading", total=None, unit="")

            def stage(name: str, done: int) -> None:
                label, unit = _STAGES[name]
                bar.update(task, description=label.format(**names), completed=done, unit=unit)

            settlement = simulate(SimulationInputs(args.cases, args.history, args.params), args.out, stage)
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
