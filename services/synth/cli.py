"""`medpay synth`: write a synthetic prefecture (institutions, doctors, settlement lists and records, truth)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from libs.common.runtime import Runtime

from .generator import Generator
from .params import SynthParams
from .region import RegionError
from .sources import Output, doctor_rows, institutions_rows, load_reference
from .writer import write_run

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped


def add_commands(sub: Any) -> None:
    cmd = sub.add_parser("synth", help="generate a synthetic prefecture: settlement lists (4101A), the core "
                         "system's settlement records (2304/2305), institutions, doctors and the truth")
    defaults = SynthParams()
    cmd.add_argument("--region", default=defaults.region, help="6-digit prefecture code (default %(default)s)")
    cmd.add_argument("--hospitals", type=int, default=defaults.hospitals)
    cmd.add_argument("--year", type=int, default=defaults.year, help="year the period starts (default %(default)s)")
    cmd.add_argument("--first-month", type=int, default=defaults.first_month,
                     help="month of --year the period starts (default %(default)s)")
    cmd.add_argument("--months", type=int, default=defaults.months,
                     help="length of the period in months, 1-120: several years make a base period "
                          "(default %(default)s); the period must end before the current month")
    cmd.add_argument("--cases", type=int, default=defaults.cases, help="settlement lists to write")
    cmd.add_argument("--seed", type=int, default=defaults.seed)
    cmd.add_argument("--scheme", help=f"CHS-DRG scheme the case mix is drawn from (default {defaults.scheme}, or "
                     "the bundled medpay-sample pack where the reference material has no such pack)")
    cmd.add_argument("--rich-lists", action="store_true",
                     help="write lists in the older rich form (patient fields, iteminfo, payinfo) instead of "
                          "as hospital systems send 4101A")
    cmd.add_argument("--no-fee-details", action="store_true",
                     help="write no fee details (fee_details.jsonl, 2301 per list) nor knowledge/items.csv")
    cmd.add_argument("--out", type=Path, default=Path("synth-out"))
    cmd.add_argument("--gzip", action="store_true", help="gzip the JSON-lines files (for large runs)")
    cmd.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    cmd.set_defaults(handler=run_synth)


def run_synth(args: argparse.Namespace, runtime: Runtime) -> int:
    problem = _bad_arguments(args)
    if problem:
        console.print(f"medpay synth: {problem}")
        return 2
    scheme = args.scheme or default_scheme(runtime.reference_dir)
    params = SynthParams(region=args.region, hospitals=args.hospitals, year=args.year, first_month=args.first_month,
                         months=args.months, cases=args.cases, seed=args.seed, scheme=scheme,
                         rich_lists=args.rich_lists, fee_details=not args.no_fee_details)
    if params.last_day >= date.today().replace(day=1):
        console.print(f"medpay synth: the period {params.first_day:%Y-%m} to {params.last_day:%Y-%m} does not end "
                      f"before the current month; the platform refuses stays in the future, so choose an earlier "
                      f"--year or fewer --months")
        return 2
    try:
        ref, doctors = load_reference(params, runtime.reference_dir)
    except RegionError as bad:
        console.print(f"medpay synth: {bad}")
        return 2
    started = time.perf_counter()
    columns = (TextColumn("settlement lists"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Output(args.out, args.gzip) as out, Progress(*columns, console=console, transient=True) as progress:
        out.write_all("institutions.jsonl", institutions_rows(list(ref.hospitals)))
        out.write_all("doctors.jsonl", doctor_rows(doctors))
        task = progress.add_task("lists", total=params.cases)
        counts = write_run(Generator(params, ref), out, lambda n: progress.update(task, completed=n))
    elapsed = time.perf_counter() - started
    (args.out / "params.json").write_text(json.dumps(_describe(params, ref), ensure_ascii=False, indent=1))
    details = f", {counts.fee_lines:,} fee detail lines" if params.fee_details else ""
    console.print(f"wrote {counts.lists:,} settlement lists{details} and {counts.records:,} settlement records of "
                  f"{len(ref.hospitals)} hospitals ({params.first_day:%Y-%m} to {params.last_day:%Y-%m}) to "
                  f"{args.out} in {elapsed:.1f}s ({counts.lists / max(elapsed, 1e-9):,.0f} lists/s); "
                  f"{len(ref.catalogue.skipped_drgs)} DRGs of {params.scheme} not reachable by the sampler")
    return 0


def _bad_arguments(args: argparse.Namespace) -> str:
    if not 1 <= args.months <= 120:
        return "--months must be 1-120"
    if not 1 <= args.first_month <= 12:
        return "--first-month must be 1-12"
    if not 1990 <= args.year <= 2100:
        return "--year must be a year like 2025"
    if args.hospitals < 1 or args.cases < 0:
        return "--hospitals must be >= 1 and --cases >= 0"
    return ""


def default_scheme(reference_dir: Path) -> str:
    national = SynthParams().scheme
    return national if (reference_dir / "grouping" / national).is_dir() else "medpay-sample"


def _describe(params: SynthParams, ref: Any) -> dict[str, Any]:
    described: dict[str, Any] = _plain(dataclasses.asdict(params))
    described["period"] = [params.first_day.isoformat(), params.last_day.isoformat()]
    described["skipped_drgs"] = list(ref.catalogue.skipped_drgs)
    return described


def _plain(value: Any) -> Any:
    """JSON-ready: tuple keys (e.g. (insurance type, level)) joined with "/"."""
    if isinstance(value, dict):
        return {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
