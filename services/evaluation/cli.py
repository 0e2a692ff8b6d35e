"""`medpay evaluation ...`: performance indicators from files, in-process (no server needed)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from libs.common.runtime import Runtime

if TYPE_CHECKING:
    from .reporting.model import EvaluationReport


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
    report = cmds.add_parser(
        "report", help="write the published report of a region and period (HTML and CSV) from its latest run",
        description="Reads the latest finished evaluation run of the region and period from the evaluation "
        "schema (MEDPAY_DATABASE_URL) and writes DIR/report.html (self-contained: tables and inline SVG charts) "
        "with the same figures in summary.csv, hospitals.csv, groups.csv and trends.csv.")
    report.add_argument("--region", required=True, help="6-digit region code, e.g. 330700")
    report.add_argument("--period", required=True, help="2026-03 (month), 2026-H1 (half year) or 2026 (year)")
    report.add_argument("--out", required=True, type=Path, help="output directory")
    report.add_argument("--region-name", default="", help="the region's name for the title (default: its code)")
    report.set_defaults(handler=run_report)


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


def run_report(args: argparse.Namespace, runtime: Runtime) -> int:
    import asyncio

    from .adapters.indicators.report_files import write_report
    from .domain.indicators.periods import EvaluationPeriod
    from .service_layer.indicators.report import build_report
    from .service_layer.indicators.unit_of_work import EvaluationUnitOfWork

    period = EvaluationPeriod.parse(args.period, "--period")

    async def report() -> EvaluationReport:
        from libs.common.db.engine import session_factory

        engine = runtime.engine(pool_size=2)
        try:
            sessions = session_factory(engine)
            return await build_report(lambda: EvaluationUnitOfWork(sessions), args.region, period,
                                      region_name=args.region_name)
        finally:
            await engine.dispose()

    built = asyncio.run(report())
    written = write_report(built, args.out)
    print(f"{built.run}: {built.region_figures.cases:,} cases, {len(built.hospitals)} hospitals -> "
          + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0
