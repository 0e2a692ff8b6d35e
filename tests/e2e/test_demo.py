"""`medpay demo`, the main job, end to end on a small month (the three services as real processes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from libs.common.runtime import Runtime

from ..support import ROOT


def test_the_demo_posts_a_month_and_writes_its_report(runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir)}
    out = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--lists", "400", "--hospitals", "5",
                          "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "400 lists posted" in out.stdout and "rejections matching the injected faults: 100.0%" in out.stdout
    # Lists as hospital systems send them, the person and money from the core system's records: most lists come
    # before their record and wait, some after; at the end nothing waits.
    summary = re.search(r"acknowledged as pending \(before their record\): (\d+), grouped on arrival: (\d+), "
                        r"rejected on arrival: (\d+); still waiting at the end: (\d+) lists, (\d+) records",
                        " ".join(out.stdout.split()))
    assert summary is not None, out.stdout[-3000:]
    pending, active, rejected, lists_waiting, records_waiting = map(int, summary.groups())
    assert pending > 0 and active > 0 and pending + active + rejected == 400
    assert lists_waiting == 0 and records_waiting == rejected  # only the rejected lists' records still wait
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for section in ("why lists were rejected", "top DRGs", "cases per hospital", "ValidateCodes over gRPC",
                    "settlement records and lists waiting for them", "lists pending on arrival"):
        assert section in page
    assert page.count("<rect") >= 5  # the charts have bars
