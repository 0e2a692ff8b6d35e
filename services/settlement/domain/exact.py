"""Exact arithmetic on integers and fractions: FORMAT's ``round_k`` (half up) and fixed-place text.

Amounts are integers in units of ``10**-k`` (fen for money, 1/10,000 for weights and points, 1/1,000,000 for
the fund ratio and point value); anything between two roundings is a :class:`~fractions.Fraction`, so no value
is ever cut short before FORMAT says to round it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from libs.common.decimals import half_up_div

SCALE2, SCALE4, SCALE6 = 100, 10_000, 1_000_000


half_up = half_up_div
"""``num / den`` rounded to an integer, ties away from zero (``den`` > 0): ``libs.common.decimals.half_up_div``."""


def round_units(value: Fraction, unit: int) -> int:
    """``round_k(value)`` as an integer count of ``1/unit`` (unit = 10**k)."""
    return half_up(value.numerator * unit, value.denominator)


def frac(value: Decimal | int) -> Fraction:
    return Fraction(value)


def floor_of(value: Fraction) -> int:
    return value.numerator // value.denominator


def ceil_of(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def fixed(units: int, places: int) -> str:
    """An integer count of ``10**-places`` as text with exactly ``places`` decimals (``-1234, 2 -> "-12.34"``)."""
    sign = "-" if units < 0 else ""
    whole, part = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{part:0{places}d}"


def units_of(value: Decimal, places: int) -> int:
    """A decimal that has at most ``places`` decimals as an integer count of ``10**-places``."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimals")
    return int(scaled)
