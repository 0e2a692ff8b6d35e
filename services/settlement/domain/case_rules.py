"""Per-case arithmetic of both methods, folded into integer constants once per (group, coefficient).

For a group with weight ``RW``, standard ``std`` and coefficient ``coef``, every formula of FORMAT step 2 is
``round(a + b * cost)`` for constants ``a``, ``b`` (fractions), and every threshold ``cost > k * std`` is an
integer comparison in fen. Computing those constants once per group and hospital coefficient leaves one
multiplication and one floor division per case, and the result is exactly the fraction FORMAT defines.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import CalculationError
from .exact import SCALE2, SCALE4, ceil_of, floor_of, half_up, round_units
from .policy import Policy
from .weights import GroupWeight


@dataclass(frozen=True)
class Linear:
    """``round(offset + slope * cost_fen)`` as ``(2 * (num0 + num1 * cost) + den) // (2 * den)``."""

    num0: int
    num1: int
    den: int

    @staticmethod
    def of(offset: Fraction, slope: Fraction) -> Linear:
        den = offset.denominator * slope.denominator // _gcd(offset.denominator, slope.denominator)
        return Linear(offset.numerator * (den // offset.denominator), slope.numerator * (den // slope.denominator),
                      den)

    def at(self, cost: int) -> int:
        return half_up(self.num0 + self.num1 * cost, self.den)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


@dataclass(frozen=True)
class PointRule:
    """One group at one coefficient under the point method; points in 1/10,000."""

    base_points: int
    high_above: int
    """A case is high when its cost in fen is greater than this (``floor(k * std)``)."""
    low_below: int
    """A case is low when its cost in fen is less than this (``ceil(low_ratio * std)``)."""
    normal: int
    high: Linear
    low: Linear


def band_k(policy: Policy, group: str, base_points: Fraction) -> Fraction:
    for band in policy.high_bands:
        if band.up_to is None or Fraction(band.up_to) >= base_points:
            return Fraction(band.k)
    raise CalculationError("high_bands", f"no band covers the {float(base_points):g} base points of group {group}")


def point_rule(policy: Policy, weight: GroupWeight, coefficient: Fraction) -> PointRule:
    scale = Fraction(policy.scale)
    bp = Fraction(weight.rw, SCALE4) * scale  # base points, exact
    k = band_k(policy, weight.group, bp)
    std = weight.standard  # fen
    per_fen = bp * SCALE4 / std  # points (1/10,000) per fen of cost: BP x c / std
    return PointRule(
        base_points=round_units(bp, SCALE4),
        high_above=floor_of(k * std), low_below=ceil_of(Fraction(policy.low_ratio) * std),
        normal=round_units(bp * coefficient, SCALE4),
        high=Linear.of(bp * (coefficient - k) * SCALE4, per_fen),
        low=Linear.of(Fraction(0), per_fen))


def item_points(policy: Policy, avg_all: Fraction) -> Linear:
    """Special and by-item cases: ``round_4(c / avg_all * scale)`` per fen of cost ``c``."""
    return Linear.of(Fraction(0), Fraction(policy.scale) * SCALE4 / (avg_all * SCALE2))


@dataclass(frozen=True)
class RateRule:
    """One group at one level and coefficient under the rate method; money in fen."""

    standard: int
    high_above: int
    low_below: int


def rate_rule(policy: Policy, weight: GroupWeight, rate: int, level: str, coefficient: Fraction) -> RateRule:
    standard = round_units(Fraction(weight.rw * rate, SCALE4) * coefficient, 1)
    return RateRule(standard, floor_of(Fraction(policy.levels[level].high_k) * standard),
                    ceil_of(Fraction(policy.low_ratio) * standard))
