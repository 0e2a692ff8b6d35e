"""Beyond INDICATORS.md, per group and per unit (PRIMER section 7): cost CV, standardised mortality with its
z-score and risk band, and the quadrant of a unit (CMI against the cost index).

Square roots are decided and rounded exactly: ``round_4(sqrt(x))`` of a rational ``x`` is found with integer
square roots, and a band boundary ``|z| = 1`` is ``d^2 = variance``, never a float comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from math import isqrt

import numpy as np

from .compute import MortalitySpread, UnitIndicators, exact_sums, mortality_spread
from .rounding import SCALE, figure, round4_ratio
from .table import CaseTable


class RiskBand(StrEnum):
    """Where a group's standardised mortality lies: z < -1, -1 <= z < 0, 0 <= z <= 1, z > 1."""

    LOW = "low"
    MID_LOW = "mid_low"
    MID_HIGH = "mid_high"
    HIGH = "high"


class Quadrant(StrEnum):
    """A unit's place in the CMI / cost-index plane: CMI at or above the region's, cost index at or below 1."""

    HIGH_CMI_LOW_COST = "high_cmi_low_cost"
    HIGH_CMI_HIGH_COST = "high_cmi_high_cost"
    LOW_CMI_LOW_COST = "low_cmi_low_cost"
    LOW_CMI_HIGH_COST = "low_cmi_high_cost"


@dataclass(frozen=True, slots=True)
class GroupProfile:
    """The region's figures of one group. Decimals have 4 places; ``mean_cost_fen`` is rounded half up."""

    group: str
    cases: int
    deaths: int
    rw: Decimal | None
    """The group's weight; ``None`` for a group without one (ungroupable, ambiguous, not in the table)."""
    mean_los: Decimal
    mean_cost_fen: int
    cost_cv: Decimal | None
    """Population standard deviation of cost over its mean; ``None`` when the mean cost is 0."""
    mortality: Decimal
    z_score: Decimal | None
    """``(m_g - mu) / sd`` over the groups taking part in the low-risk decision; ``None`` for the others and
    when ``sd = 0``."""
    band: RiskBand | None
    low_risk: bool


def group_profiles(table: CaseTable, weights: Mapping[str, int]) -> tuple[GroupProfile, ...]:
    """One profile per group of ``table``, sorted by group code."""
    labels = table.group_labels
    size = len(labels)
    g = table.group
    cases = np.bincount(g, minlength=size)
    deaths = np.bincount(g[table.died], minlength=size)
    los = exact_sums(g, table.los, size)
    cost = exact_sums(g, table.cost_fen, size)
    squares = _sums_of_squares(g, table.cost_fen, size)
    rw = [weights.get(label) for label in labels]
    spread = mortality_spread(cases, deaths, np.array([w is not None for w in rw], dtype=np.bool_))
    profiles = []
    for i, label in enumerate(labels):
        n, total = int(cases[i]), int(cost[i])
        if n == 0:  # a label of a subset's parent table
            continue
        z, band = _z_and_band(spread, i)
        weight = rw[i]
        profiles.append(GroupProfile(
            group=label, cases=n, deaths=int(deaths[i]), rw=None if weight is None else figure(weight),
            mean_los=figure(round4_ratio(int(los[i]), n)),
            mean_cost_fen=(2 * total + n) // (2 * n),
            cost_cv=_cv(n, total, squares[i]), mortality=figure(round4_ratio(int(deaths[i]), n)),
            z_score=z, band=band, low_risk=spread is not None and i in spread.rates and spread.is_low_risk(i)))
    return tuple(sorted(profiles, key=lambda p: p.group))


def round4_sqrt(value: Fraction) -> int:
    """``round_4(sqrt(value))`` in ten-thousandths, exactly: the largest k with (2k - 1)^2 <= 4 * 10^8 * value."""
    if value < 0:
        raise ValueError("no square root of a negative value")
    scaled = 4 * SCALE * SCALE * value
    return (isqrt(scaled.numerator // scaled.denominator) + 1) // 2


def quadrant(unit: UnitIndicators, region: UnitIndicators) -> Quadrant | None:
    """The unit's quadrant from its published CMI and cost index (``None`` without weighted cases)."""
    if unit.cmi is None or unit.cost_index is None or region.cmi is None:
        return None
    high = unit.cmi >= region.cmi
    cheap = unit.cost_index <= 1
    if high:
        return Quadrant.HIGH_CMI_LOW_COST if cheap else Quadrant.HIGH_CMI_HIGH_COST
    return Quadrant.LOW_CMI_LOW_COST if cheap else Quadrant.LOW_CMI_HIGH_COST


def _z_and_band(spread: MortalitySpread | None, g: int) -> tuple[Decimal | None, RiskBand | None]:
    if spread is None or g not in spread.rates or spread.variance == 0:
        return None, None
    d = -spread.below(g)  # m_g - mu
    beyond = d * d > spread.variance  # |z| > 1
    bands = {(True, True): RiskBand.LOW, (True, False): RiskBand.MID_LOW, (False, True): RiskBand.HIGH,
             (False, False): RiskBand.MID_HIGH}
    band = bands[(d < 0, beyond)]
    size = round4_sqrt(d * d / spread.variance)
    return figure(-size if d < 0 else size), band


def _cv(cases: int, total: int, squares: int) -> Decimal | None:
    """sd / mean = sqrt(n * sum(x^2) - (sum x)^2) / sum x, exactly rounded."""
    if total == 0:
        return None
    return figure(round4_sqrt(Fraction(cases * squares - total * total, total * total)))


def _sums_of_squares(keys: np.ndarray, values: np.ndarray, size: int) -> list[int]:
    """Per key, the sum of squared values in Python integers (squares of fen overflow 64 bits)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = np.searchsorted(sorted_keys, np.arange(size + 1))
    ordered = values[order].tolist()
    return [sum(x * x for x in ordered[int(bounds[k]):int(bounds[k + 1])]) for k in range(size)]
