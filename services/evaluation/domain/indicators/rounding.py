"""The one rounding of INDICATORS.md: round half up to 4 decimals, applied once, last, to an exact value."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from libs.common.decimals import half_up_div

SCALE = 10_000
"""Indicators are published with 4 decimals: a figure is an integer number of ten-thousandths."""


def round4_ratio(numerator: int, denominator: int) -> int:
    """``round_4(numerator / denominator)`` in ten-thousandths, exactly (half up: ties go away from zero)."""
    return half_up_div(SCALE * numerator, denominator)


def round4(value: Fraction) -> int:
    """``round_4`` of an exact fraction, in ten-thousandths."""
    return round4_ratio(value.numerator, value.denominator)


def figure(ten_thousandths: int) -> Decimal:
    """A 4-decimal Decimal from ten-thousandths: 9972 -> Decimal('0.9972'), 10000 -> Decimal('1.0000')."""
    return Decimal(ten_thousandths).scaleb(-4)


def text4(ten_thousandths: int) -> str:
    """The published text of a figure: always 4 decimals, no exponent ("0.0070", "4317.0793")."""
    sign = "-" if ten_thousandths < 0 else ""
    whole, part = divmod(abs(ten_thousandths), SCALE)
    return f"{sign}{whole}.{part:04d}"
