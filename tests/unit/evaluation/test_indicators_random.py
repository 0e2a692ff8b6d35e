"""Random regions: the indicators equal the plain reference implementation, through both file readers.

Small integers make ties, zero-LOS and zero-cost groups, sd = 0, units without weighted cases and same-day
readmissions common; a few large groups make the low-risk decision take part.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.evaluation.adapters.indicators.files import read_cases, read_cases_by_line

from .reference import indicators_csv as reference_csv
from .support import computed, write_inputs

GROUPS = ["G1", "G2", "G3", "0000", "X1QY"]
START = date(2026, 1, 1)


@st.composite
def regions(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, str]]:
    weighted = draw(st.lists(st.sampled_from(["G1", "G2", "G3", "0000"]), unique=True))
    weights = {g: f"{draw(st.integers(0, 30_000)) / 10_000:.4f}" for g in weighted}
    bulk = draw(st.sampled_from([0, 0, 1, 2, 3]))  # groups pushed past 30 cases for the low-risk decision
    count = draw(st.integers(1, 40)) + 30 * bulk
    cases = []
    for i in range(count):
        group = GROUPS[i % bulk] if i < 30 * bulk else draw(st.sampled_from(GROUPS))
        admitted = START + timedelta(days=draw(st.integers(0, 40)))
        cases.append({
            "case_id": f"c{i}", "hospital": draw(st.sampled_from(["H1", "H2", "H10", "h"])),
            "dept": draw(st.sampled_from(["A", "B", "内科"])), "doctor": draw(st.sampled_from(["D1", "D2", "D3"])),
            "psn_no": draw(st.sampled_from(["P1", "P2", "P3", "P4", "P5"])), "group": group,
            "adm_date": admitted.isoformat(),
            "dscg_date": (admitted + timedelta(days=draw(st.integers(0, 4)))).isoformat(),
            "los": draw(st.sampled_from([0, 1, 2, 3, 7])),
            "total_cost": draw(st.sampled_from(["0.00", "1.00", "2.50", "3.00", "100.01", "99.99", "7.77"])),
            "dscg_way": draw(st.sampled_from(["1", "5", "5", "9"])),
        })
    return cases, weights


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regions())
def test_random_regions_equal_the_reference(region: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
    cases, weights = region
    expected = reference_csv(cases, weights)
    with tempfile.TemporaryDirectory() as tmp:
        assert computed(Path(tmp), cases, weights) == expected
        assert computed(Path(tmp), cases, weights, by_line=True) == expected


@settings(max_examples=40, deadline=None)
@given(regions())
def test_both_readers_build_the_same_table(region: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
    cases, weights = region
    with tempfile.TemporaryDirectory() as tmp:
        cases_file, _ = write_inputs(Path(tmp), cases, weights)
        fast, by_line = read_cases(cases_file), read_cases_by_line(cases_file, cases_file.read_bytes())
    for field in fast.__dataclass_fields__:
        a, b = getattr(fast, field), getattr(by_line, field)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field
        else:
            assert a == b, field
