"""Performance-evaluation benchmark: `medpay evaluation indicators` on a million cases.

    .venv/bin/python -m benchmarks.evaluation [--cases 1000000] [--seed 11]

Writes a prefecture-sized cases file (60 hospitals, 20 departments each, 6,000 doctors, 620 groups of which 600
weighted, people readmitted) and its weights.csv into a temporary directory, then times the command as an
operator runs it (a fresh process: reading, computing, writing). Target: 1,000,000 cases in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

from .support import ROOT, report

GROUPS = 620
WEIGHTED = 600


def write_inputs(directory: Path, cases: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    groups = [f"{chr(65 + i // 100 % 26)}{chr(65 + i // 4 % 25)}{1 + i % 4}{i % 10}" for i in range(GROUPS)]
    groups = [*sorted(set(groups))[:GROUPS - 1], "0000"]
    weights = directory / "weights.csv"
    with weights.open("w") as out:
        out.write("group,kept_cases,avg_cost,rw,source\n")
        for group in sorted(groups[:WEIGHTED]):
            out.write(f"{group},100,1000.00,{rng.uniform(0.1, 5):.4f},data\n")
    base = {g: (rng.uniform(2000, 60000), rng.randint(1, 20), rng.choice((0.001, 0.01, 0.05, 0.2))) for g in groups}
    drawn = rng.choices(groups, weights=[1 / (rank + 1) ** 0.9 for rank in range(len(groups))], k=cases)
    start = date(2026, 1, 1)
    path = directory / "cases.jsonl"
    with path.open("wb") as out:
        for i, group in enumerate(drawn):
            cost, los, death = base[group]
            hospital = rng.randrange(60)
            stay = max(0, int(rng.gauss(los, los / 3)))
            admitted = start + timedelta(days=rng.randrange(350))
            person = rng.randrange(int(cases * 0.7))
            out.write(orjson.dumps({
                "case_id": f"C{i:08d}", "hospital": f"H3307{hospital:07d}", "level": 1 + hospital % 3,
                "psn_no": f"P{person:010d}", "adm_date": admitted.isoformat(),
                "dscg_date": (admitted + timedelta(days=stay)).isoformat(), "group": group,
                "total_cost": f"{cost * rng.lognormvariate(0, 0.5):.2f}", "fund_paid": "0.00", "personal_paid": "0.00",
                "los": stay, "dept": f"{chr(65 + rng.randrange(20))}{rng.randrange(1, 5):02d}",
                "doctor": f"D{hospital:04d}{rng.randrange(100):04d}", "dscg_way": "5" if rng.random() < death else "1",
            }) + b"\n")
    return path, weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        cases, weights = write_inputs(directory, args.cases, args.seed)
        written = time.perf_counter() - started
        command = [sys.executable, "-m", "services.cli", "evaluation", "indicators", "--cases", str(cases),
                   "--weights", str(weights), "--out", str(directory / "out")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, env=os.environ)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
        rows = sum(1 for _ in (directory / "out" / "indicators.csv").open()) - 1
        size = cases.stat().st_size / 1e6
    report("medpay evaluation indicators", [
        ("cases", f"{args.cases:,} ({size:.0f} MB of JSON lines, written in {written:.0f} s)"),
        ("indicator rows", f"{rows:,}"),
        ("wall time", f"{elapsed:.2f} s (target < 10 s for 1,000,000)"),
        ("CPU time of the command", f"{user + system:.2f} s ({user:.2f} user + {system:.2f} sys; peak "
                                    f"{after.ru_maxrss / 1024:.0f} MB): what the wall time is on an idle machine"),
        ("cases/s", f"{args.cases / elapsed:,.0f}"),
        ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ])


if __name__ == "__main__":
    main()
