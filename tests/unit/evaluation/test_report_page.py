"""The published report: its sections, charts and CSV figures, rendered in headless Chromium."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from services.evaluation.reporting.figures import report_files
from services.evaluation.reporting.model import EvaluationReport
from services.evaluation.reporting.page import render

from ...browser import Chromium, chromium, open_page
from .report_data import build_report, synthetic_year

__all__ = ["chromium"]
SECTIONS = ("regional summary", "hospital league table", "CMI vs cost index", "time and cost efficiency",
            "low-risk mortality", "trends by month", "data quality", "payment and review", "method and inputs")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> EvaluationReport:
    cases, weights = synthetic_year()
    return build_report(tmp_path_factory.mktemp("report"), cases, weights)


def test_the_page_has_every_section_and_is_self_contained(report: EvaluationReport) -> None:
    page = render(report)
    for section in SECTIONS:
        assert section in page, section
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_the_csv_figures_match_the_report(report: EvaluationReport) -> None:
    files = report_files(report)
    hospitals = list(csv.DictReader(io.StringIO(files["hospitals.csv"])))
    assert [row["unit"] for row in hospitals] == [h.code for h in report.league()]
    cmis = [row["cmi"] for row in hospitals]
    assert cmis == sorted(cmis, reverse=True)
    first = report.league()[0]
    assert hospitals[0]["cmi"] == f"{first.figures.cmi}" and hospitals[0]["rank"] == "1"
    assert hospitals[0]["quadrant"] == (first.quadrant.value if first.quadrant else "")
    summary = next(csv.DictReader(io.StringIO(files["summary.csv"])))
    assert summary["cases"] == str(report.region_figures.cases) and summary["surplus"] == "12345.67"
    trends = list(csv.DictReader(io.StringIO(files["trends.csv"])))
    assert {row["month"] for row in trends} == {f"2026-{m:02d}" for m in range(1, 13)} | {"2027-01"} or \
        len({row["month"] for row in trends}) >= 12
    groups = list(csv.DictReader(io.StringIO(files["groups.csv"])))
    assert len(groups) == len(report.groups) and all(row["mean_cost"].count(".") == 1 for row in groups)


def test_the_report_renders_in_chromium_with_its_charts(report: EvaluationReport, chromium: Chromium,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(report), encoding="utf-8")
    with open_page(chromium, path) as seen:
        page = seen.page
        headings = " | ".join(page.locator("h2").all_inner_texts())
        for section in SECTIONS:
            assert section in headings, (section, headings)
        assert page.locator("svg.chart").count() >= 6
        points = page.locator("#quadrant ~ svg.chart").first.locator("g.point circle")
        assert points.count() == len([h for h in report.hospitals if h.figures.cmi is not None])
        box = page.locator("svg.chart").first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("#league-table tbody tr").count() == len(report.hospitals)
        assert page.locator("#trend-table tbody tr").count() >= 12
        assert page.locator("path.series").count() >= 3
        kpi = page.locator(".kpi").first.inner_text()
        assert f"{report.region_figures.cases:,}" in kpi
    assert seen.problems() == []
