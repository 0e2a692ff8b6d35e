"""`medpay demo`, the main job, end to end on a small month (the three services as real processes)."""

from __future__ import annotations

import os
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
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for section in ("why lists were rejected", "top DRGs", "cases per hospital", "ValidateCodes over gRPC"):
        assert section in page
    assert page.count("<rect") >= 5  # the charts have bars
