"""A run's computation: the period, month by month, and what each unit belongs to."""

from __future__ import annotations

from pathlib import Path

from services.evaluation.adapters.indicators.files import read_cases
from services.evaluation.domain.indicators.compute import Level
from services.evaluation.domain.indicators.evaluation import evaluate

from .reference import indicators_csv as reference_csv
from .support import case, cells, write_inputs
from .test_indicators import MIXED_WEIGHTS, mixed_cases


def test_a_month_is_evaluated_on_its_own_cases(tmp_path: Path) -> None:
    cases = mixed_cases()
    cases_file, _ = write_inputs(tmp_path, cases, MIXED_WEIGHTS)
    months = [str(c["dscg_date"])[:7] for c in cases]
    result = evaluate(read_cases(cases_file), months, {"G1": 10_000, "GZ": 20_000})
    assert [m for m, _ in result.months] == ["2026-01", "2026-02", "2026-03"]
    for month, units in result.months:
        of_month = [c for c in cases if str(c["dscg_date"]).startswith(month)]
        expected = cells(reference_csv(of_month, MIXED_WEIGHTS))
        assert {u.figures.level for u in units} <= {Level.REGION, Level.HOSPITAL}
        for unit in units:
            row = expected[(unit.figures.level.value, unit.figures.unit)]
            assert str(unit.figures.cases) == row["cases"]
            assert f"{unit.figures.readmit15_rate}" == row["readmit15_rate"]
            assert ("" if unit.figures.cmi is None else f"{unit.figures.cmi}") == row["cmi"]
    january = dict(result.months)["2026-01"]
    assert [u.figures.unit for u in january] == ["ALL", "H1", "H2"]
    assert f"{january[0].figures.readmit15_rate}" == "0.5000"  # c1 (Jan 5) and c2 (Jan 20): one of two
    assert len(result.units) == 11 and result.region.cases == 6


def test_units_know_their_hospital(tmp_path: Path) -> None:
    cases = [case("a", hospital="H1", doctor="D1"), case("b", hospital="H2", doctor="D1", person="P2"),
             case("c", hospital="H2", doctor="D2", dept="B", person="P3")]
    cases_file, _ = write_inputs(tmp_path, cases, {"G1": "1.0000"})
    result = evaluate(read_cases(cases_file), ["2026-01"] * 3, {"G1": 10_000})
    owner = {(u.figures.level, u.figures.unit): u.hospital for u in result.units}
    assert owner[(Level.REGION, "ALL")] is None
    assert owner[(Level.HOSPITAL, "H2")] == "H2" and owner[(Level.DEPT, "H2/B")] == "H2"
    assert owner[(Level.DOCTOR, "D1")] is None and owner[(Level.DOCTOR, "D2")] == "H2"
