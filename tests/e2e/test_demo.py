"""`medpay demo`, the main job, end to end on a small month (the three services as real processes); its report
rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from libs.common.runtime import Runtime

from ..browser import Chromium, chromium, open_page
from ..support import ROOT

__all__ = ["chromium"]
SECTIONS = ("why lists were rejected", "top DRGs", "cases per hospital", "ValidateCodes over gRPC",
            "settlement records and lists waiting for them", "lists pending on arrival", "hospital statements",
            "balance by hospital", "outlier shares", "special cases", "monthly advances")


@pytest.fixture(scope="module")
def demo_run(runtime: Runtime, database_url: str, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[subprocess.CompletedProcess[str], Path]:
    out_dir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir)}
    done = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--lists", "400", "--hospitals", "5",
                           "--settlement-lists", "15", "--out", str(out_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return done, out_dir


def test_the_demo_posts_a_month_and_writes_its_report(demo_run: tuple[subprocess.CompletedProcess[str], Path]
                                                      ) -> None:
    out, out_dir = demo_run
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
    assert (out_dir / "report.html").is_file()
    # The settlement stage: a weight table, twelve advances, the revoked list's adjustment, the clearing.
    text = " ".join(out.stdout.split())
    assert "settlement: weight table regions/330700/weightTables/2024-w" in text, text[-3000:]
    assert len(re.findall(r"settlement: advance 2024-\d\d: ", text)) == 12
    assert re.search(r"settlement: clearing 2024: point value \d+\.\d{6}", text)


def test_the_demo_report_renders_with_its_sections_and_charts(
        demo_run: tuple[subprocess.CompletedProcess[str], Path], chromium: Chromium) -> None:
    done, out_dir = demo_run
    assert done.returncode == 0, done.stderr[-2000:]
    with open_page(chromium, out_dir / "report.html") as seen:
        text = seen.page.locator("body").inner_text()
        for section in SECTIONS:
            assert section in text, section
        assert seen.page.locator("h2").count() >= 5
        bars = seen.page.locator("svg rect")
        assert bars.count() >= 5
        assert min(bars.nth(i).bounding_box()["width"] for i in range(bars.count())) >= 1  # drawn, not collapsed
    assert seen.problems() == []
