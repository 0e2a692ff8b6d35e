"""Synthetic-prefecture benchmark: lists written per second on one core, and peak memory as runs grow.

    .venv/bin/python -m benchmarks.synth [--lists 100000] [--gzip] [--rich-lists] [--no-fee-details]

Peak resident memory is reported for the whole process; compare two sizes (e.g. 100,000 and 1,000,000) to see
that it does not grow with the number of lists.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import Output, load_reference
from services.synth.writer import write_run

from .support import reference_dir, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=100_000)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--rich-lists", action="store_true")
    parser.add_argument("--no-fee-details", action="store_true", help="lists, records and truth only")
    args = parser.parse_args()
    params = SynthParams(cases=args.lists, rich_lists=args.rich_lists, fee_details=not args.no_fee_details)
    started = time.perf_counter()
    ref, _ = load_reference(params, reference_dir())
    loaded = time.perf_counter() - started
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp, Output(Path(tmp), args.gzip) as out:
        started = time.perf_counter()
        written = write_run(Generator(params, ref), out)
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report(f"synthetic prefecture, {args.lists:,} lists ({params.scheme}{', gzip' if args.gzip else ''})", [
        ("scheme calibration and reference load", f"{loaded:.1f} s"),
        ("lists written", f"{args.lists / elapsed:,.0f} lists/s on one core ({elapsed:.1f} s), with "
                          f"{written.records:,} settlement records and the truth"
                          + (f", {written.fee_lines:,} fee detail lines" if params.fee_details else "")),
        ("output", f"{size / 1e6:,.0f} MB"),
        ("peak memory", f"{peak / 1024:,.0f} MB (after loading the reference: {baseline / 1024:,.0f} MB)"),
    ])


if __name__ == "__main__":
    main()
