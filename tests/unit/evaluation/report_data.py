"""A year of a small region, computed through the domain into an ``EvaluationReport`` (no database)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.evaluation.adapters.indicators.files import read_cases
from services.evaluation.domain.indicators.compute import Level, compute_indicators
from services.evaluation.domain.indicators.groups import group_profiles, quadrant
from services.evaluation.reporting.model import (
    EvaluationReport,
    HospitalEntry,
    PaymentFigures,
    QualityFigures,
    TrendPoint,
)

from .support import write_inputs

GROUPS = {f"G{i:02d}": f"{0.3 + 0.15 * i:.4f}" for i in range(20)}


def synthetic_year(seed: int = 5, cases: int = 3000, hospitals: int = 8) -> tuple[list[dict[str, Any]],
                                                                                   dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(cases):
        h = rng.randrange(hospitals)
        group = rng.choice([*GROUPS, "0000"]) if rng.random() < 0.98 else "0000"
        base = 5 + GROUPS.get(group, "1").count("5")
        admitted = date(2026, 1, 1) + timedelta(days=rng.randrange(360))
        stay = max(0, int(rng.gauss(base + h % 3, 2)))
        rows.append({"case_id": f"c{i}", "hospital": f"H33070{h:06d}", "dept": rng.choice(["A01", "B02", "C03"]),
                     "doctor": f"D{h}{rng.randrange(6)}", "psn_no": f"P{rng.randrange(cases // 2)}", "group": group,
                     "adm_date": admitted.isoformat(), "dscg_date": (admitted + timedelta(days=stay)).isoformat(),
                     "los": stay, "total_cost": f"{rng.lognormvariate(9 + h * 0.03, 0.4):.2f}",
                     "dscg_way": "5" if rng.random() < 0.01 + 0.02 * (group > "G15") else "1"})
    return rows, GROUPS


def build_report(folder: Path, cases: list[dict[str, Any]], weights: dict[str, str]) -> EvaluationReport:
    rw = {g: int(Decimal(w) * 10_000) for g, w in weights.items()}
    cases_file, _ = write_inputs(folder, cases, weights)
    table = read_cases(cases_file)
    result = compute_indicators(table, rw)
    region = result.rows[0]
    months: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        months[c["dscg_date"][:7]].append(c)
    trends = []
    for month in sorted(months):
        month_file, _ = write_inputs(folder / month, months[month], weights)
        for row in compute_indicators(read_cases(month_file), rw).rows:
            if row.level in (Level.REGION, Level.HOSPITAL):
                trends.append(TrendPoint(month, row.unit, row))
    hospitals = tuple(
        HospitalEntry(code=row.unit, name=f"第{i + 1}人民医院", level=1 + i % 3, figures=row,
                      quadrant=quadrant(row, region),
                      quality=QualityFigures.of(row.cases, row.cases - i, row.cases + i, row.cases),
                      payment=PaymentFigures(Decimal("0.0312"), Decimal("0.0101"), i, (i - 3) * 123_456))
        for i, row in enumerate(r for r in result.rows if r.level is Level.HOSPITAL))
    return EvaluationReport(
        region="330700", region_name="金华市 (synthetic)", period="2026", run="regions/330700/evaluationRuns/2026-r1",
        generated_at=datetime(2027, 1, 15, 9, 30), inputs=(("case feed sequence", "12345"), ("weights", "w-2026")),
        region_figures=region, hospitals=hospitals, groups=group_profiles(table, rw), trends=tuple(trends),
        region_quality=QualityFigures.of(3000, 2900, 3100, 3000),
        region_payment=PaymentFigures(Decimal("0.0312"), Decimal("0.0101"), 28, 1_234_567),
        notes=("Review figures are not shown: no review run of the period.",))

