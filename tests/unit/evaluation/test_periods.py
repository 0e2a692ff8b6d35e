"""Evaluation periods: months, half years and years, as text and as the months they cover."""

from __future__ import annotations

import pytest

from libs.common.dates import Period
from libs.common.errors import InvalidArgument
from services.evaluation.domain.indicators.periods import EvaluationPeriod, PeriodKind


@pytest.mark.parametrize(("text", "kind", "months"), [
    ("2026-03", PeriodKind.MONTH, ["2026-03"]),
    ("2026-H1", PeriodKind.HALF_YEAR, [f"2026-{m:02d}" for m in range(1, 7)]),
    ("2026-H2", PeriodKind.HALF_YEAR, [f"2026-{m:02d}" for m in range(7, 13)]),
    ("2026", PeriodKind.YEAR, [f"2026-{m:02d}" for m in range(1, 13)]),
])
def test_periods_read_and_cover_their_months(text: str, kind: PeriodKind, months: list[str]) -> None:
    period = EvaluationPeriod.parse(text)
    assert period.kind is kind and str(period) == text
    assert [str(m) for m in period.months()] == months
    assert all(isinstance(m, Period) for m in period.months())


@pytest.mark.parametrize("text", ["2026-13", "2026-H3", "2026-00", "26-01", "2026-1", "2026-Q1", "", "1800"])
def test_bad_periods_name_the_field(text: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        EvaluationPeriod.parse(text, "evaluation_run.period")
    assert raised.value.metadata["field"] == "evaluation_run.period"
