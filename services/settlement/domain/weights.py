"""Step 1 of FORMAT.md: relative weights and standard costs of the groups, from the base years' history.

Per (group, year) the costs are trimmed at two nearest-rank percentiles; a group with at least ``min_cases``
kept cases is weighted from data (``RW = round_4(avg_g / avg_all)``, ``std = round_2(avg_g)``, both averages
year-weighted means of yearly means); ``weights.fixed`` sets a group's weight whatever the data says.
Everything before the two roundings is an exact fraction.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from .cases import History
from .errors import CalculationError
from .exact import SCALE2, SCALE4, ceil_of, round_units, units_of
from .policy import WeightParams


@dataclass(frozen=True)
class GroupWeight:
    group: str
    kept_cases: int
    """``K_g``: kept base-year cases of the group (also when below ``min_cases``)."""
    rw: int
    """Relative weight in 1/10,000."""
    standard: int
    """Standard cost ``std_g`` in fen."""
    source: str
    """``data`` or ``fixed``."""


@dataclass(frozen=True)
class LevelBasis:
    """The kept history of the latest base year at one hospital level, in weighted groups: the rate basis."""

    cost: int = 0
    """``S_cost`` in fen."""
    rw: int = 0
    """``S_rw`` in 1/10,000."""


@dataclass(frozen=True)
class WeightTable:
    groups: dict[str, GroupWeight]
    avg_all: Fraction
    """The year-weighted mean cost of all cases of groups weighted from data, in yuan, exact."""
    level_basis: dict[int, LevelBasis] = field(default_factory=dict)

    def sorted_groups(self) -> list[GroupWeight]:
        return [self.groups[g] for g in sorted(self.groups)]


@dataclass
class _Cell:
    kept: int
    total: int
    low: int
    high: int


def nearest_rank(n: int, percentile: Fraction) -> int:
    """FORMAT's 1-based rank ``max(1, ceil(p / 100 * n))``."""
    return max(1, ceil_of(percentile * n / 100))


def is_weightable(group: str, year: int, params: WeightParams) -> bool:
    return group != "0000" and not group.endswith("QY") and group not in params.exclude and year in params.years


def _trim(costs: list[int], low_p: Fraction, high_p: Fraction) -> _Cell:
    costs.sort()
    low, high = costs[nearest_rank(len(costs), low_p) - 1], costs[nearest_rank(len(costs), high_p) - 1]
    first, last = bisect_left(costs, low), bisect_right(costs, high)
    return _Cell(last - first, sum(costs[first:last]), low, high)


def _year_mean(means: dict[int, Fraction], params: WeightParams, subject: str) -> Fraction:
    total_weight = sum((Fraction(params.year_weight(y)) for y in means), Fraction(0))
    if total_weight == 0:
        raise CalculationError("weights.year_weights", f"every base year with data of {subject} weighs 0")
    return sum((Fraction(params.year_weight(y)) * m for y, m in means.items()), Fraction(0)) / total_weight


def compute_weights(history: History, params: WeightParams) -> WeightTable:
    """The weight table of ``params`` over ``history`` (FORMAT step 1); raises :class:`CalculationError`."""
    low_p, high_p = (Fraction(p) for p in params.trim_percentiles)
    cells: dict[str, dict[int, _Cell]] = defaultdict(dict)
    for group, year, by_level in history.cells():
        if is_weightable(group, year, params):
            cells[group][year] = _trim([c for costs in by_level.values() for c in costs], low_p, high_p)
    kept = {g: sum(c.kept for c in years.values()) for g, years in cells.items()}
    from_data = sorted(g for g, k in kept.items() if k >= params.min_cases)
    avg = {g: _year_mean({y: Fraction(c.total, c.kept * SCALE2) for y, c in cells[g].items()}, params, g)
           for g in from_data}
    year_total: dict[int, int] = defaultdict(int)
    year_count: dict[int, int] = defaultdict(int)
    for g in from_data:
        for y, c in cells[g].items():
            year_total[y] += c.total
            year_count[y] += c.kept
    if not year_count:
        raise CalculationError("avg_all", "no group of the history is weighted from data (min_cases, years)")
    avg_all = _year_mean({y: Fraction(year_total[y], year_count[y] * SCALE2) for y in year_count}, params,
                         "all groups")
    if avg_all == 0:
        raise CalculationError("avg_all", "the average cost of the weighted history is 0")
    groups = {g: GroupWeight(g, kept[g], round_units(avg[g] / avg_all, SCALE4), round_units(avg[g], SCALE2), "data")
              for g in from_data}
    for g, weight in params.fixed.items():
        rw = units_of(weight, 4)
        standard = groups[g].standard if g in groups else round_units(Fraction(rw, SCALE4) * avg_all, SCALE2)
        groups[g] = GroupWeight(g, kept.get(g, 0), rw, standard, "fixed")
    for g in sorted(groups):
        if groups[g].standard == 0:
            raise CalculationError(f"weights.{g}", "the standard cost std_g of this weighted group is 0")
    return WeightTable(groups, avg_all, _level_basis(history, params, groups, cells))


def _level_basis(history: History, params: WeightParams, groups: dict[str, GroupWeight],
                 cells: dict[str, dict[int, _Cell]]) -> dict[int, LevelBasis]:
    latest = params.latest_year
    cost: dict[int, int] = defaultdict(int)
    rw: dict[int, int] = defaultdict(int)
    for (group, year, level), costs in history.buckets.items():
        cell = cells.get(group, {}).get(year)
        if year != latest or group not in groups or cell is None:
            continue
        low, high = cell.low, cell.high
        kept = [c for c in costs if low <= c <= high]
        cost[level] += sum(kept)
        rw[level] += len(kept) * groups[group].rw
    return {level: LevelBasis(cost[level], rw[level]) for level in sorted(cost)}
