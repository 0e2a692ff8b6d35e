"""Settlement benchmarks: `simulate` against the straightforward decimal baseline, and a million cases.

    .venv/bin/python -m benchmarks.settlement [--cases 25000] [--history 75000] [--big 1000000] [--big-history 3000000]
                                              [--data DIR] [--skip-big]

1. The same synthetic year (25,000 cases, 75,000 base-year cases by default) through the baseline
   (``benchmarks/settlement_reference.py``: ``json`` + ``Decimal``, FORMAT.md spelled out) and through
   ``services/settlement`` in this process, alternately, best of three each; the outputs must be byte-identical.
   Reports wall and CPU time of both and the ratios (the target is >= 2x; on a shared machine the CPU ratio is
   the steadier one).
2. ``medpay settlement simulate`` as a child process on a million cases (and three million history cases):
   wall time, cases/s and the child's peak resident memory (the target is < 30 s).
Generated inputs are kept in ``--data`` (default ``.venv/bench-settlement``) and reused.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from services.settlement.service_layer.simulation import SimulationInputs, simulate

from .settlement_reference import simulate as reference_simulate
from .settlement_scenarios import Scenario, generate
from .support import ROOT, report


def inputs(data: Path, cases: int, history: int) -> Path:
    folder = data / f"{cases}-{history}"
    if not (folder / "params.json").exists():
        started = time.perf_counter()
        print(f"generating {cases:,} cases and {history:,} history cases into {folder} ...", flush=True)
        generate(Scenario(seed=11, cases=cases, history=history, groups=700, hospitals=60, min_cases=30), folder)
        print(f"  ({time.perf_counter() - started:.0f} s)")
    return folder


def compare(folder: Path, rounds: int = 3) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best (wall, CPU) seconds of the baseline and of services/settlement, run alternately in this process."""
    files = SimulationInputs(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json")
    baseline: list[tuple[float, float]] = []
    fast: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            started = time.perf_counter(), time.process_time()
            expected = reference_simulate(files.cases, files.history, files.params)
            baseline.append((time.perf_counter() - started[0], time.process_time() - started[1]))
            started = time.perf_counter(), time.process_time()
            simulate(files, Path(tmp))
            fast.append((time.perf_counter() - started[0], time.process_time() - started[1]))
            for name, content in expected.items():
                if (Path(tmp) / name).read_bytes() != content:
                    sys.exit(f"{name} differs between the baseline and services/settlement")
    return min(baseline), min(fast)


def big(folder: Path) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [str(ROOT / ".venv" / "bin" / "medpay"), "settlement", "simulate", "--cases",
                   str(folder / "cases.jsonl"), "--history", str(folder / "history.jsonl"), "--params",
                   str(folder / "params.json"), "--out", tmp]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=25_000)
    parser.add_argument("--history", type=int, default=75_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--big-history", type=int, default=3_000_000)
    parser.add_argument("--data", type=Path, default=ROOT / ".venv" / "bench-settlement")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    baseline, fast = compare(inputs(args.data, args.cases, args.history))
    report(f"simulate vs the decimal baseline ({args.cases:,} cases, {args.history:,} history; best of 3)", [
        ("baseline", f"{baseline[0]:.2f} s wall, {baseline[1]:.2f} s CPU ({args.cases / baseline[1]:,.0f} cases/s)"),
        ("services/settlement", f"{fast[0]:.2f} s wall, {fast[1]:.2f} s CPU ({args.cases / fast[1]:,.0f} cases/s)"),
        ("ratio", f"{baseline[0] / fast[0]:.2f}x wall, {baseline[1] / fast[1]:.2f}x CPU (target >= 2x)"),
    ])
    if not args.skip_big:
        elapsed, cpu, peak = big(inputs(args.data, args.big, args.big_history))
        report(f"medpay settlement simulate, {args.big:,} cases + {args.big_history:,} history", [
            ("wall time", f"{elapsed:.1f} s, CPU {cpu:.1f} s (target < 30 s)"),
            ("rate", f"{args.big / elapsed:,.0f} cases/s (wall)"),
            ("peak memory", f"{peak:,.0f} MiB (child process)"),
        ])


if __name__ == "__main__":
    main()
