"""The one integer half-up of libs/common/decimals.py, which settlement, the indicators and DIP round with."""

from __future__ import annotations

from fractions import Fraction

import pytest

from libs.common.decimals import half_up_div


@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (5, 2, 3), (-5, 2, -3), (7, 2, 4), (4, 3, 1), (5, 3, 2), (-4, 3, -1), (-5, 3, -2), (0, 7, 0),
    (2_749_085 * 10_000, 3, 9_163_616_667), (1, 10**30, 0), (10**30 + 5, 10, 10**29 + 1)])
def test_half_up_div_rounds_the_exact_quotient_ties_away_from_zero(numerator: int, denominator: int,
                                                                    expected: int) -> None:
    assert half_up_div(numerator, denominator) == expected
    exact = Fraction(numerator, denominator)  # the same by the definition: |x| + 1/2, floored, signed
    assert expected == (1 if exact >= 0 else -1) * int(abs(exact) + Fraction(1, 2))


def test_half_up_div_needs_a_positive_denominator() -> None:
    with pytest.raises(ValueError, match="positive"):
        half_up_div(1, 0)
