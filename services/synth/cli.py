"""`medpay synth`: write a synthetic prefecture (institutions, doctors, settlement lists, truth)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from libs.common.runtime import Runtime

from .generator import Generator
from .params import SynthParams
from .region import RegionError
from .sources import Output, doctor_rows, institutions_rows, json_line, load_reference

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped


def add_commands(sub: Any) -> None:
    cmd = sub.add_parser("synth", help="generate a synthetic prefecture's settlement lists (4101A) with truth")
    defaults = SynthParams()
    cmd.add_argument("--region", default=defaults.region, help="6-digit prefecture code (default %(default)s)")
    cmd.add_argument("--hospitals", type=int, default=defaults.hospitals)
    cmd.add_argument("--months", type=int, default=defaults.months, help="1-12, from January")
    cmd.add_argument("--cases", type=int, default=defaults.cases, help="settlement lists to write")
    cmd.add_argument("--seed", type=int, default=defaults.seed)
    cmd.add_argument("--scheme", help=f"CHS-DRG scheme the case mix is drawn from (default {defaults.scheme}, or "
                     "the bundled medpay-sample pack where the reference material has no such pack)")
    cmd.add_argument("--year", type=int, default=defaults.year)
    cmd.add_argument("--out", type=Path, default=Path("synth-out"))
    cmd.add_argument("--gzip", action="store_true", help="gzip the JSON-lines files (for large runs)")
    cmd.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    cmd.set_defaults(handler=run_synth)


def run_synth(args: argparse.Namespace, runtime: Runtime) -> int:
    if not 1 <= args.months <= 12 or args.hospitals < 1 or args.cases < 0:
        console.print("medpay synth: --months must be 1-12, --hospitals >= 1, --cases >= 0")
        return 2
    scheme = args.scheme or default_scheme(runtime.reference_dir)
    params = SynthParams(region=args.region, hospitals=args.hospitals, months=args.months, cases=args.cases,
                         seed=args.seed, scheme=scheme, year=args.year)
    try:
        ref, doctors = load_reference(params, runtime.reference_dir)
    except RegionError as bad:
        console.print(f"medpay synth: {bad}")
        return 2
    started = time.perf_counter()
    columns = (TextColumn("settlement lists"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Output(args.out, args.gzip) as out:
        out.write_all("institutions.jsonl", institutions_rows(list(ref.hospitals)))
        out.write_all("doctors.jsonl", doctor_rows(doctors))
        lists, truth = out.open("settlement_lists.jsonl"), out.open("truth.jsonl")
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("lists", total=params.cases)
            for n, (request, fact) in enumerate(Generator(params, ref).lists(), start=1):
                lists.write(json_line(request))
                truth.write(json_line(fact))
                if n % 1000 == 0:
                    progress.update(task, completed=n)
    elapsed = time.perf_counter() - started
    (args.out / "params.json").write_text(json.dumps(_describe(params, ref), ensure_ascii=False, indent=1))
    console.print(f"wrote {params.cases:,} settlement lists of {len(ref.hospitals)} hospitals to {args.out} "
                  f"in {elapsed:.1f}s ({params.cases / max(elapsed, 1e-9):,.0f} lists/s); "
                  f"{len(ref.catalogue.skipped_drgs)} DRGs of {params.scheme} not reachable by the sampler")
    return 0


def default_scheme(reference_dir: Path) -> str:
    national = SynthParams().scheme
    return national if (reference_dir / "grouping" / national).is_dir() else "medpay-sample"


def _describe(params: SynthParams, ref: Any) -> dict[str, Any]:
    described = {k: v for k, v in params.__dict__.items() if k != "faults"}
    described["faults"] = params.faults.as_dict()
    described["skipped_drgs"] = list(ref.catalogue.skipped_drgs)
    return described
