"""DIP benchmarks: building a catalogue from a large history file, and grouping.

    .venv/bin/python -m benchmarks.dip [--cases 1000000] [--seconds 8]

The history is generated here (seeded): a few thousand recurring diagnosis + procedure combinations drawn from
the real code tables with Zipf frequencies, plus rare one-off combinations, shuffled and duplicated procedures
and diagnostic procedures, so that the catalogue has the usual core/comprehensive proportions. Reports:
`medpay dip build` end to end (read, build, write) on one core; the grouper in-process on one core over
pre-read cases; `medpay dip group` end to end (read, group, write) in cases/s.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from services.grouping.adapters.dip_files import load_procedure_classes, parse_catalogue, read_cases
from services.grouping.domain.dip.case import DipCase
from services.grouping.domain.dip.matching import DipGrouper

from .support import reference_dir, report

DIAGNOSTIC = ["87.4400", "88.7600", "89.5200", "88.3800x001", "90.5900", "91.0100"]


def codes(path: Path) -> list[str]:
    return [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]


def write_history(path: Path, cases: int, seed: int, prefix: str = "B") -> None:
    """``cases`` lines of DIP history (FORMAT.md's case input) to ``path``: the prefecture's combinations are
    always the same (seed 1), the cases drawn from them depend on ``seed``."""
    rng = random.Random(1)
    ref = reference_dir()
    dx = codes(ref / "codes/icd10_chs_2.0_diagnoses.tsv")
    px = [c for c in codes(ref / "codes/icd9cm3_chs_2.0_procedures.tsv") if not c.startswith(("87.", "88.",
                                                                                               "89.", "90.", "91."))]
    combos = []
    for _ in range(4000):
        combos.append((rng.choice(dx), rng.sample(px, rng.choice((0, 1, 1, 1, 2, 2, 3))), rng.uniform(2000, 60000)))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(combos))]
    rng.seed(seed)
    picks = rng.choices(range(len(combos)), weights, k=cases)
    with path.open("wb") as out:
        buf = io.BytesIO()
        for i, pick in enumerate(picks):
            principal, procedures, base = combos[pick]
            if rng.random() < 0.12:  # a one-off combination
                principal, procedures = rng.choice(dx), rng.sample(px, rng.randint(0, 3))
            listed = list(procedures)
            if listed and rng.random() < 0.3:
                listed.append(rng.choice(listed))  # a duplicate
            if rng.random() < 0.2:
                listed.append(rng.choice(px))  # an extra procedure: partial matches
            if rng.random() < 0.4:
                listed.append(rng.choice(DIAGNOSTIC))
            rng.shuffle(listed)
            secondaries = rng.sample(dx, rng.randint(0, 4))
            buf.write(orjson.dumps({"case_id": f"{prefix}{i:08d}", "dx": [principal, *secondaries], "px": listed,
                                    "dscg_date": "2025-06-30", "total_cost": f"{base * rng.uniform(0.5, 1.8):.2f}"}))
            buf.write(b"\n")
            if buf.tell() > 1 << 20:
                out.write(buf.getvalue())
                buf = io.BytesIO()
        out.write(buf.getvalue())


def cli(*args: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one `medpay dip` process (CPU time shows the cost on a loaded machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "services.cli", "dip", *args, "--reference-dir", str(reference_dir())],
                   check=True, stdout=subprocess.DEVNULL, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def in_process(grouper: DipGrouper, cases: list[DipCase], seconds: float) -> tuple[float, float]:
    """Cases per wall-clock second and per CPU second."""
    group = grouper.group
    for case in cases:  # warm up
        group(case)
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for case in cases:
            group(case)
        done += len(cases)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000, help="history cases to build from")
    parser.add_argument("--group-cases", type=int, default=200_000, help="cases to group")
    parser.add_argument("--threshold", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of the in-process measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        history, cases, catalogue = folder / "history.jsonl", folder / "cases.jsonl", folder / "catalogue.tsv"
        write_history(history, args.cases, seed=9)
        write_history(cases, args.group_cases, seed=10, prefix="S")
        build_s, build_cpu = cli("build", "--history", str(history), "--threshold", str(args.threshold),
                                 "--out", str(catalogue))
        group_s, group_cpu = cli("group", "--catalogue", str(catalogue), "--cases", str(cases))
        classes = load_procedure_classes(reference_dir() / "grouping/chs-drg-1.1/or_procedures.tsv")
        parsed = parse_catalogue(catalogue.read_bytes(), str(catalogue), classes)
        grouper = DipGrouper("bench", "bench", parsed, classes)
        with cases.open("rb") as lines:
            loaded = [entry.case for entry in read_cases(lines, str(cases))]
        rate, rate_cpu = in_process(grouper, loaded, args.seconds)
        kinds: dict[str, int] = {}
        for case in loaded:
            kind = grouper.group(case).kind.value
            kinds[kind] = kinds.get(kind, 0) + 1
    load = os.getloadavg()[0]
    report(f"DIP, threshold {args.threshold} (load average {load:.1f} on {os.cpu_count()} cores)", [
        ("catalogue", f"{len(parsed.core):,} core + {len(parsed.comprehensive):,} comprehensive groups, "
                      f"{parsed.core_cases / parsed.cases:.1%} of history cases in core groups"),
        (f"build from {args.cases:,} cases", f"{build_s:.1f} s end to end (read, build, write; one process), "
                                             f"{build_cpu:.1f} CPU s"),
        ("group in-process, one core", f"{rate:,.0f} cases/s ({rate_cpu:,.0f} per CPU second)"),
        (f"group {args.group_cases:,} cases, CLI", f"{args.group_cases / group_s:,.0f} cases/s end to end "
                                                   f"({group_s:.1f} s; {args.group_cases / group_cpu:,.0f} per CPU s)"),
        ("kinds", ", ".join(f"{k} {v / len(loaded):.1%}" for k, v in sorted(kinds.items()))),
    ])


if __name__ == "__main__":
    main()
