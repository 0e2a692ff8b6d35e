"""Group profiles (cost CV, z-scores, risk bands) and quadrants, against hand-computed values."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from services.evaluation.adapters.indicators.files import read_cases
from services.evaluation.domain.indicators.compute import Level, UnitIndicators
from services.evaluation.domain.indicators.groups import (
    GroupProfile,
    Quadrant,
    RiskBand,
    group_profiles,
    quadrant,
    round4_sqrt,
)

from .support import case, write_inputs
from .test_indicators import group_of


def profiles(tmp_path: Path, cases: list[dict[str, object]], weights: dict[str, str]) -> dict[str, GroupProfile]:
    cases_file, _ = write_inputs(tmp_path, cases, weights)
    rw = {g: int(Decimal(w) * 10_000) for g, w in weights.items()}
    return {p.group: p for p in group_profiles(read_cases(cases_file), rw)}


def test_round4_sqrt_is_exact_including_ties() -> None:
    assert round4_sqrt(Fraction(2)) == 14142
    assert round4_sqrt(Fraction(0)) == 0 and round4_sqrt(Fraction(1)) == 10_000
    assert round4_sqrt(Fraction(100_010_000_25, 10**10)) == 10_001  # sqrt = 1.00005 exactly: half up
    assert round4_sqrt(Fraction(100_010_000_24, 10**10)) == 10_000  # a hair below the tie


@given(st.fractions(min_value=0, max_value=10_000))
def test_round4_sqrt_brackets_the_root(value: Fraction) -> None:
    k = round4_sqrt(value)
    # k - 1/2 <= sqrt(value) * 10^4 < k + 1/2, squared
    assert Fraction(2 * k - 1, 2) ** 2 <= value * 10**8 or k == 0
    assert value * 10**8 < Fraction(2 * k + 1, 2) ** 2


def test_cost_cv_is_the_population_sd_over_the_mean(tmp_path: Path) -> None:
    cases = [case("a", person="a", group="S", cost="100.00"), case("b", person="b", group="S", cost="100.00"),
             case("c", person="c", group="T", cost="0.00"), case("d", person="d", group="T", cost="200.00"),
             case("e", person="e", group="U", cost="100.00"), case("f", person="f", group="U", cost="200.00"),
             case("g", person="g", group="U", cost="300.00"), case("h", person="h", group="Z", cost="0.00")]
    got = profiles(tmp_path, cases, {"S": "1.0000"})
    assert got["S"].cost_cv == Decimal("0.0000")
    assert got["T"].cost_cv == Decimal("1.0000")
    assert got["U"].cost_cv == Decimal("0.4082")  # sqrt(20000/3) / 200
    assert got["U"].mean_cost_fen == 20_000
    assert got["Z"].cost_cv is None
    assert got["S"].rw == Decimal("1.0000") and got["T"].rw is None


def test_z_scores_and_bands(tmp_path: Path) -> None:
    # GA 0/30, GB 6/30, GC 6/30: mu = 2/15, variance = 2/225: GA z = -sqrt(2), GB and GC z = 1/sqrt(2)
    cases = group_of("GA", 30, 0) + group_of("GB", 30, 6) + group_of("GC", 30, 6) + group_of("GD", 5, 5)
    got = profiles(tmp_path, cases, {"GA": "1.0000", "GB": "1.0000", "GC": "1.0000", "GD": "1.0000"})
    ga, gb, gd = got["GA"], got["GB"], got["GD"]
    assert (ga.z_score, ga.band, ga.low_risk) == (Decimal("-1.4142"), RiskBand.LOW, True)
    assert (gb.z_score, gb.band, gb.low_risk) == (Decimal("0.7071"), RiskBand.MID_HIGH, False)
    assert (gd.z_score, gd.band, gd.mortality) == (None, None, Decimal("1.0000"))


def test_z_of_exactly_minus_one_and_one_stays_in_the_middle_bands(tmp_path: Path) -> None:
    cases = group_of("GA", 30, 0) + group_of("GB", 30, 2)  # mu = 1/30 = sd
    got = profiles(tmp_path, cases, {"GA": "1.0000", "GB": "1.0000"})
    assert (got["GA"].z_score, got["GA"].band) == (Decimal("-1.0000"), RiskBand.MID_LOW)
    assert (got["GB"].z_score, got["GB"].band) == (Decimal("1.0000"), RiskBand.MID_HIGH)


def test_sd_zero_leaves_z_undefined(tmp_path: Path) -> None:
    got = profiles(tmp_path, group_of("GA", 30, 3) + group_of("GB", 30, 3), {"GA": "1.0000", "GB": "1.0000"})
    assert got["GA"].z_score is None and got["GA"].band is None


def row(cmi: str | None, cost: str | None) -> UnitIndicators:
    return UnitIndicators(level=Level.HOSPITAL, unit="H", cases=1, grouped=1, grouping_rate=Decimal(1), drg_count=1,
                          total_weight=Decimal(1), cmi=None if cmi is None else Decimal(cmi), time_index=None,
                          cost_index=None if cost is None else Decimal(cost), low_risk_cases=0, low_risk_deaths=0,
                          low_risk_mortality=None, readmit15_rate=Decimal(0))


def test_quadrants_include_their_boundaries_on_the_good_side() -> None:
    region = row("1.0000", "1.0000")
    assert quadrant(row("1.0000", "1.0000"), region) is Quadrant.HIGH_CMI_LOW_COST
    assert quadrant(row("1.2000", "1.0001"), region) is Quadrant.HIGH_CMI_HIGH_COST
    assert quadrant(row("0.9999", "0.8000"), region) is Quadrant.LOW_CMI_LOW_COST
    assert quadrant(row("0.9000", "1.2000"), region) is Quadrant.LOW_CMI_HIGH_COST
    assert quadrant(row(None, None), region) is None
