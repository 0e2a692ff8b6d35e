"""The report's figures as CSV (UTF-8, comma-separated, ``\\n`` line ends, a header): what the page shows, for
a spreadsheet. Decimals keep their 4 places, money is yuan with 2, empty cells where the page shows none."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from ..domain.indicators.compute import UnitIndicators
from ..domain.indicators.groups import GroupProfile
from .model import EvaluationReport, PaymentFigures, QualityFigures, ReviewFigures

UNIT_COLUMNS = ("cases", "grouped", "grouping_rate", "drg_count", "total_weight", "cmi", "time_index", "cost_index",
                "low_risk_cases", "low_risk_deaths", "low_risk_mortality", "readmit15_rate")
EXTRA_COLUMNS = ("lists_accepted", "uploaded_in_time", "timeliness", "lists_received", "qc_pass_rate",
                 "high_outlier_share", "low_outlier_share", "special_cases", "surplus", "review_flags_per_1000",
                 "review_confirmed")


def report_files(report: EvaluationReport) -> dict[str, str]:
    """File name -> content of every CSV beside the page."""
    summary = [["ALL", report.region_name, "", *_unit(report.region_figures), "",
                *_extra(report.region_quality, report.region_payment, report.region_review)]]
    hospitals = [[h.code, h.name, "" if h.level is None else str(h.level), *_unit(h.figures),
                  h.quadrant.value if h.quadrant else "", *_extra(h.quality, h.payment, h.review)]
                 for h in report.league()]
    head = ("unit", "name", "level", *UNIT_COLUMNS, "quadrant", *EXTRA_COLUMNS)
    return {
        "summary.csv": _csv(head, summary),
        "hospitals.csv": _csv(("rank", *head), [[str(i), *row] for i, row in enumerate(hospitals, start=1)]),
        "groups.csv": _csv(("group", "cases", "deaths", "rw", "mean_los", "mean_cost", "cost_cv", "mortality",
                            "z_score", "band", "low_risk"), [_group(g) for g in report.groups]),
        "trends.csv": _csv(("month", "unit", *UNIT_COLUMNS), [[t.month, t.unit, *_unit(t.figures)]
                                                             for t in report.trends]),
    }


def _unit(f: UnitIndicators) -> list[str]:
    return [str(f.cases), str(f.grouped), _d(f.grouping_rate), str(f.drg_count), _d(f.total_weight), _d(f.cmi),
            _d(f.time_index), _d(f.cost_index), str(f.low_risk_cases), str(f.low_risk_deaths),
            _d(f.low_risk_mortality), _d(f.readmit15_rate)]


def _extra(q: QualityFigures | None, p: PaymentFigures | None, r: ReviewFigures | None) -> list[str]:
    quality = [str(q.lists_accepted), str(q.uploaded_in_time), _d(q.timeliness),
               "" if q.lists_received is None else str(q.lists_received), _d(q.qc_pass_rate)] if q else [""] * 5
    payment = [_d(p.high_outlier_share), _d(p.low_outlier_share), str(p.special_cases),
               "" if p.surplus_fen is None else _yuan(p.surplus_fen)] \
        if p else [""] * 4
    review = [_d(r.flags_per_thousand), _yuan(r.confirmed_fen)] if r else [""] * 2
    return quality + payment + review


def _group(g: GroupProfile) -> list[str]:
    return [g.group, str(g.cases), str(g.deaths), _d(g.rw), _d(g.mean_los), _yuan(g.mean_cost_fen), _d(g.cost_cv),
            _d(g.mortality), _d(g.z_score), g.band.value if g.band else "", "1" if g.low_risk else "0"]


def _d(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _csv(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue()

