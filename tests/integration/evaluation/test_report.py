"""The published report from a stored run: built in-process, and written by `medpay evaluation report`."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from libs.common.errors import NotFound
from services.evaluation.domain.indicators.compute import Level
from services.evaluation.domain.indicators.evaluation import EvaluationResult
from services.evaluation.domain.indicators.periods import EvaluationPeriod
from services.evaluation.service_layer.indicators.report import build_report

from ...browser import Chromium, chromium, open_page
from ...support import ROOT
from .test_results import REGION, Uows, store

__all__ = ["chromium"]


async def test_the_report_shows_the_latest_run_of_the_period(evaluation_uows: Uows, tmp_path: Path) -> None:
    await store(evaluation_uows, tmp_path, "2024-H1", seed=7)
    name, result = await store(evaluation_uows, tmp_path, "2024-H1", seed=8)  # a later run of the same period
    report = await build_report(evaluation_uows, REGION, EvaluationPeriod.parse("2024-H1"), region_name="测试市")
    assert report.run == name and report.region_figures == result.region
    assert [h.code for h in report.hospitals] == [u.figures.unit for u in result.units
                                                 if u.figures.level is Level.HOSPITAL]
    assert {t.month for t in report.trends} == {m for m, _ in result.months}
    assert report.region_quality is not None and any("settlement" in note for note in report.notes)
    with pytest.raises(NotFound):
        await build_report(evaluation_uows, REGION, EvaluationPeriod.parse("2023"))


@pytest.fixture
async def july(evaluation_uows: Uows, tmp_path: Path) -> EvaluationResult:
    return (await store(evaluation_uows, tmp_path, "2024-07", seed=9))[1]


def test_the_command_writes_the_page_and_csv(july: EvaluationResult, database_url: str, tmp_path: Path,
                                             chromium: Chromium) -> None:
    result = july
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-m", "services.cli", "evaluation", "report", "--region", REGION,
                           "--period", "2024-07", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out" / "hospitals.csv").open() as f:
        assert len(list(csv.DictReader(f))) == sum(u.figures.level is Level.HOSPITAL for u in result.units)
    with open_page(chromium, tmp_path / "out" / "report.html") as seen:
        assert seen.page.locator("svg.chart").count() >= 4
        assert seen.page.locator("#league-table tbody tr").count() == \
            sum(u.figures.level is Level.HOSPITAL for u in result.units)
    assert seen.problems() == []
    bad = subprocess.run([sys.executable, "-m", "services.cli", "evaluation", "report", "--region", REGION,
                          "--period", "2024-13", "--out", str(tmp_path / "bad")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "--period" in bad.stderr and "Traceback" not in bad.stderr
