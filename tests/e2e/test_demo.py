"""`medpay demo`, the main job, end to end on a small month (the three services as real processes); its report
rendered in headless Chromium."""

from __future__ import annotations

import asyncio
import csv
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.common.runtime import Runtime

from ..browser import Chromium, chromium, open_page
from ..support import ROOT, create_database, drop_database, server_url

__all__ = ["chromium"]
SECTIONS = ("why lists were rejected", "top DRGs", "cases per hospital", "ValidateCodes over gRPC",
            "settlement records and lists waiting for them", "lists pending on arrival", "hospital statements",
            "balance by hospital", "review deductions", "outlier shares", "special cases", "monthly advances",
            "smart review of the month", "rules: activity and precision", "deductions for the settlement run",
            "example flags", "a DIP prefecture", "top DIP groups")


@pytest.fixture(scope="module")
async def demo_run(runtime: Runtime, server_root: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[tuple[subprocess.CompletedProcess[str], Path]]:
    """The demo on a database of its own (it migrates it): what it stores (knowledge, rule sets, flags, runs)
    never meets the other tests' data."""
    out_dir = tmp_path_factory.mktemp("demo")
    admin = server_url(server_root)
    database_url, name = await create_database(admin)
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir)}
    try:
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "services.cli", "demo", "--lists", "400", "--hospitals", "5",
                             "--settlement-lists", "15", "--dip-lists", "200", "--dip-base-cases", "4800",
                             "--out", str(out_dir)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=900, check=False)
        yield done, out_dir
    finally:
        await drop_database(admin, name)


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
    # Three hospitals applied for a special case each; the bureau approved two, rejected one; the clearing
    # settled the two by their cost and the report lists all three.
    specials = re.findall(r"settlement: special case (\S+) of (H\d{11}) \([\d,]+\.\d\d yuan, \w+ in 2024-\d\d\): "
                          r"applied, (approved|rejected)", text)
    assert [decision for *_, decision in specials] == ["approved", "approved", "rejected"], text[-3000:]
    assert len({hospital for _, hospital, _ in specials}) == 3
    page = " ".join((out_dir / "report.html").read_text(encoding="utf-8").split())
    assert "2 approved special cases were settled by their cost" in page
    for list_id, _, decision in specials:
        cleared = "special" if decision == "approved" else r"(?:normal|high|low|by_item)"
        assert re.search(rf"<code>{list_id}</code>.*?<td>{decision}: .*?</td><td>{cleared}, [\d.]+ points</td>",
                         page), list_id
    # Review went over 2024 before the clearing; the clearing deducted exactly what the workflow confirmed.
    review = re.search(r"settlement: review regions/330700/reviewRuns/2024~medpay-review~2024\.1: (\d+) lists, "
                       r"(\d+) flags; (\d+) confirmed, (\d+) dismissed: ([\d,.]+) yuan for the clearing to deduct",
                       text)
    assert review is not None, text[-3000:]
    assert int(review.group(1)) > 0
    assert re.search(rf"settlement: clearing 2024: .*, review deductions {re.escape(review.group(5))}\b", text)


def test_the_demo_reviews_the_month_it_posted(demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The review run read every accepted list with its fee details; the flags were taken through the workflow
    into deductions; a hospital saw only its own flags."""
    out, out_dir = demo_run
    assert out.returncode == 0, out.stderr[-2000:]
    text = " ".join(out.stdout.split())
    accepted = int(re.search(r"lists posted in .*?: ([\d,]+) accepted, [\d,]+ rejected", text)  # type: ignore[union-attr]
                   .group(1).replace(",", ""))
    review = re.search(r"smart review: 审核清单 lists reviewed (\d+), 疑点 flags (\d+), .*?扣款 deducted \(yuan\) "
                       r"([\d,.]+)", text)
    assert review is not None, text[-3000:]
    assert int(review.group(1)) == accepted and int(review.group(2)) > 0 and review.group(3) != "0.00"
    page = " ".join((out_dir / "report.html").read_text(encoding="utf-8").split())
    assert f"{accepted} lists ({accepted} with details)" in page and "all its own" in page
    examples = re.findall(r"<li><b>(\w+)</b> · (RV-[\w-]+) v\w+ · (H\d{11}) .*? yuan at stake<br>"
                          r"<span class='evidence'>([^<]+)</span></li>", page)
    assert len(examples) == 3 and len({category for category, *_ in examples}) == 3, examples  # three, with evidence


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


def test_the_demo_evaluates_the_month_and_publishes_the_bureaus_report(
        demo_run: tuple[subprocess.CompletedProcess[str], Path], chromium: Chromium) -> None:
    """The month's evaluation run (the evaluation service as a process) and its report, rendered in Chromium:
    every section, the quadrant chart with a point per hospital, the CSV figures beside it."""
    done, out_dir = demo_run
    assert done.returncode == 0, done.stderr[-2000:]
    text = " ".join(done.stdout.split())
    evaluated = re.search(r"performance evaluation 2025-01 \(regions/330700/evaluationRuns/[^)]+\): ([\d,]+) cases, "
                          r"CMI (\d\.\d{4})", text)
    assert evaluated is not None, done.stdout[-3000:]
    folder = out_dir / "evaluation"
    hospitals = list(csv.DictReader((folder / "hospitals.csv").open(encoding="utf-8")))
    assert len(hospitals) == 5 and [h["rank"] for h in hospitals] == ["1", "2", "3", "4", "5"]
    cases = sum(int(h["cases"]) for h in hospitals)
    assert cases == int(evaluated.group(1).replace(",", "")) > 300  # the accepted lists of the month
    summary = next(csv.DictReader((folder / "summary.csv").open(encoding="utf-8")))
    assert summary["unit"] == "ALL" and summary["cmi"] == evaluated.group(2)  # the region's CMI, as printed
    with open_page(chromium, folder / "report.html") as seen:
        headings = " | ".join(seen.page.locator("h2").all_inner_texts())
        for section in ("regional summary", "hospital league table", "CMI vs cost index", "time and cost",
                        "low-risk mortality", "trends by month", "data quality"):
            assert section in headings, (section, headings)
        assert seen.page.locator("#league-table tbody tr").count() == 5
        assert seen.page.locator("#quadrant ~ svg.chart").first.locator("g.point circle").count() >= 4
    assert seen.problems() == []


def test_the_demo_evaluates_the_settled_year_against_its_clearing_run(
        demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The settled year's evaluation takes the clearing run's weight table and outlier and special-case figures
    from the settlement service (no weights given)."""
    done, out_dir = demo_run
    assert done.returncode == 0, done.stderr[-2000:]
    text = " ".join(done.stdout.split())
    table = re.search(r"settlement: weight table (regions/330700/weightTables/2024-w\d+)", text)
    evaluated = re.search(r"performance evaluation 2024 \(regions/330700/evaluationRuns/[^)]+\): ([\d,]+) cases.*? "
                          r"against settlement run (regions/330700/settlementRuns/\S+) \(weights (\S+)\): high "
                          r"outliers (\d\.\d{4}), low outliers (\d\.\d{4}), special cases (\d+)", text)
    assert table is not None and evaluated is not None, text[-3000:]
    assert evaluated.group(3).rstrip("):") == table.group(1)
    hospitals = list(csv.DictReader((out_dir / "evaluation" / "2024" / "hospitals.csv").open(encoding="utf-8")))
    assert len(hospitals) == 5 and all(h["high_outlier_share"] and h["low_outlier_share"] for h in hospitals)
    summary = next(csv.DictReader((out_dir / "evaluation" / "2024" / "summary.csv").open(encoding="utf-8")))
    assert summary["high_outlier_share"] == evaluated.group(4) and summary["special_cases"] == evaluated.group(6)
    assert summary["cases"] == evaluated.group(1).replace(",", "") and summary["cmi"]


def test_the_demo_dip_prefecture_publishes_its_catalogue_and_groups_its_month_by_it(
        demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    out, out_dir = demo_run
    assert out.returncode == 0, out.stderr[-2000:]
    text = " ".join(out.stdout.split())
    built = re.search(r"DIP prefecture 330400: catalogue dip-330400-2025 version (\S+) built from ([\d,]+) "
                      r"base-year cases .*? ([\d,]+) core and ([\d,]+) comprehensive groups", text)
    assert built is not None, text[-3000:]
    label, cases, core, comprehensive = built.group(1), *(int(g.replace(",", "")) for g in built.groups()[1:])
    assert 4000 < cases <= 4800 and core > 0 and comprehensive > 0  # the accepted lists of the base years
    # The catalogue the report shows is the one BuildDipCatalogue answered with (its version label).
    assert "-" not in label and "+" in label
    month = re.search(r"DIP prefecture 330400, 2025-01: 200 lists posted, (\d+) accepted and grouped by "
                      r"dip-330400-2025: ([\d.]+)% in core groups, (\d+) in comprehensive groups, (\d+) ungroupable",
                      text)
    assert month is not None, text[-3000:]
    accepted, share, in_comprehensive, ungroupable = (int(month.group(1)), float(month.group(2)),
                                                      int(month.group(3)), int(month.group(4)))
    assert accepted > 150 and 0 < share < 100
    assert abs(share / 100 * accepted - (accepted - in_comprehensive - ungroupable)) < 1
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert f"{core:,}" in page and "dip-330400-2025" in page and label in page
