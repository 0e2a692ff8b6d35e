"""Writes a report: ``report.html`` and its CSV figures into one folder, each file whole or not at all."""

from __future__ import annotations

from pathlib import Path

from ...reporting.figures import report_files
from ...reporting.model import EvaluationReport
from ...reporting.page import render
from .files import write_text_atomically


def write_report(report: EvaluationReport, out: Path) -> list[Path]:
    """The files written, the page first."""
    written = [out / "report.html"]
    write_text_atomically(written[0], [render(report)])
    for name, content in report_files(report).items():
        write_text_atomically(out / name, [content])
        written.append(out / name)
    return written
