"""The exact helpers every amount goes through: half-up rounding and fixed-place text."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.settlement.domain.exact import fixed, half_up, round_units, units_of


def test_half_up_rounds_ties_away_from_zero() -> None:
    assert [half_up(n, 2) for n in (-3, -1, 1, 3, 5)] == [-2, -1, 1, 2, 3]
    assert half_up(2499, 1000) == 2 and half_up(2500, 1000) == 3 and half_up(-2500, 1000) == -3


@given(st.integers(-10**12, 10**12), st.integers(1, 10**6), st.integers(0, 6))
def test_round_units_agrees_with_decimal_half_up(num: int, den: int, places: int) -> None:
    exact = Decimal(num) / Decimal(den)  # 28 digits are plenty here: compare away from the last digit
    expected = (Decimal(num) * 10**places / den).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if abs(exact) < 10**15:
        assert round_units(Fraction(num, den), 10**places) == int(expected)


def test_fixed_places_keep_signs_and_zeros() -> None:
    assert [fixed(v, 2) for v in (0, 5, -5, 123456, -100)] == ["0.00", "0.05", "-0.05", "1234.56", "-1.00"]
    assert fixed(7500, 4) == "0.7500" and fixed(-1, 6) == "-0.000001"
    assert units_of(Decimal("0.75"), 4) == 7500
