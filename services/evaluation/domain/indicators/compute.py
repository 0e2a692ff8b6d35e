"""INDICATORS.md's indicators of every unit (region, hospital, hospital/dept, doctor), exactly.

Counts and sums are integers (cases, days, fen, weights in ten-thousandths), so every figure is an exact ratio
rounded once. The time and cost indices are means of ratios with one denominator per group; summing those as
fractions for every unit would be slow, so they are first estimated in floating point with a proven error bound,
and only a unit whose estimate lies too close to a rounding tie is summed again as exact fractions. Every
published digit is therefore the one exact arithmetic gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import numpy as np

from .rounding import SCALE, figure, round4, round4_ratio
from .table import CaseTable, Flags, Ints

UNGROUPABLE = "0000"
DIED = "5"
MIN_GROUP_CASES = 30
"""A group takes part in the low-risk decision when the region has at least this many of its cases."""
READMISSION_DAYS = 15
_FLOAT_EXACT = 2**53
_INT64_LIMIT = 2**63
_DAY_SPAN = 1 << 22
"""More days than any ordinal of a date up to 9999-12-31 plus the readmission window: person x span + day
orders admissions by person, then day."""


class Level(StrEnum):
    REGION = "region"
    HOSPITAL = "hospital"
    DEPT = "dept"
    DOCTOR = "doctor"


LEVEL_ORDER = (Level.REGION, Level.HOSPITAL, Level.DEPT, Level.DOCTOR)
REGION_UNIT = "ALL"


class NoCasesError(ValueError):
    """Indicators need at least one case: every rate of the region divides by its cases."""


@dataclass(frozen=True, slots=True)
class UnitIndicators:
    """One row of ``indicators.csv``. Figures are 4-decimal ``Decimal``; ``None`` is INDICATORS.md's empty cell."""

    level: Level
    unit: str
    cases: int
    grouped: int
    grouping_rate: Decimal
    drg_count: int
    total_weight: Decimal
    cmi: Decimal | None
    time_index: Decimal | None
    cost_index: Decimal | None
    low_risk_cases: int
    low_risk_deaths: int
    low_risk_mortality: Decimal | None
    readmit15_rate: Decimal


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """The region's totals for one group: the denominators of the indices and the low-risk decision."""

    group: str
    cases: int
    deaths: int
    los_days: int
    cost_fen: int
    weighted: bool
    low_risk: bool


@dataclass(frozen=True)
class Indicators:
    rows: tuple[UnitIndicators, ...]
    """Sorted by level (region, hospital, dept, doctor), then unit in byte order."""
    groups: tuple[GroupFigures, ...]
    """Sorted by group code."""


def compute_indicators(table: CaseTable, weights: Mapping[str, int]) -> Indicators:
    """All indicators of ``table``'s cases; ``weights`` maps a group to its ``rw`` in ten-thousandths."""
    if len(table) == 0:
        raise NoCasesError("there are no cases to evaluate")
    region = _RegionFigures(table, weights)
    rows: list[UnitIndicators] = []
    for level in LEVEL_ORDER:
        labels, codes = _units(table, level)
        rows.extend(_level_rows(level, labels, codes, table, region))
    return Indicators(rows=tuple(rows), groups=region.group_figures())


class _RegionFigures:
    """What every unit is measured against: the region's per-group totals and the per-case flags."""

    def __init__(self, table: CaseTable, weights: Mapping[str, int]) -> None:
        labels = table.group_labels
        size = len(labels)
        self.labels = labels
        g = table.group
        self.rw = np.array([weights.get(label, -1) for label in labels], dtype=np.int64)
        self.weighted_group: Flags = self.rw >= 0
        self.cases = np.bincount(g, minlength=size)
        self.deaths = np.bincount(g[table.died], minlength=size)
        self.los = exact_sums(g, table.los, size)
        self.cost = exact_sums(g, table.cost_fen, size)
        self.low_risk_group = low_risk_groups(self.cases, self.deaths, self.weighted_group)
        ungroupable = np.array([label == UNGROUPABLE for label in labels], dtype=np.bool_)
        self.case_grouped: Flags = ~ungroupable[g]
        self.case_weighted: Flags = self.weighted_group[g]
        self.case_low_risk: Flags = self.low_risk_group[g]
        self.case_readmitted = readmitted(table.person, table.adm_day, table.dscg_day)

    def group_figures(self) -> tuple[GroupFigures, ...]:
        figures = [GroupFigures(group=label, cases=int(self.cases[i]), deaths=int(self.deaths[i]),
                                los_days=int(self.los[i]), cost_fen=int(self.cost[i]),
                                weighted=bool(self.weighted_group[i]), low_risk=bool(self.low_risk_group[i]))
                   for i, label in enumerate(self.labels) if self.cases[i]]
        return tuple(sorted(figures, key=lambda f: f.group))


@dataclass(frozen=True)
class MortalitySpread:
    """The spread of standardised mortality over the groups that take part (weighted, >= 30 regional cases):
    ``rates[g] = m_g``, their mean ``mu`` and population ``variance``, all exact."""

    rates: Mapping[int, Fraction]
    mu: Fraction
    variance: Fraction

    def below(self, g: int) -> Fraction:
        """``mu - m_g``: positive when the group dies less than the mean."""
        return self.mu - self.rates[g]

    def is_low_risk(self, g: int) -> bool:
        """``m_g < mu - sd``, decided without a square root (``sd = 0`` gives none)."""
        below = self.below(g)
        return below > 0 and below * below > self.variance


def mortality_spread(cases: Ints, deaths: Ints, weighted: Flags) -> MortalitySpread | None:
    """The spread over eligible groups (by group code); ``None`` when no group is eligible."""
    eligible = np.flatnonzero(weighted & (cases >= MIN_GROUP_CASES)).tolist()
    if not eligible:
        return None
    rates = {g: Fraction(int(deaths[g]), int(cases[g])) for g in eligible}
    mu = sum(rates.values(), Fraction(0)) / len(rates)
    variance = sum(((rate - mu) ** 2 for rate in rates.values()), Fraction(0)) / len(rates)
    return MortalitySpread(rates=rates, mu=mu, variance=variance)


def low_risk_groups(cases: Ints, deaths: Ints, weighted: Flags) -> Flags:
    """Per group: is it low-risk? Over weighted groups with >= 30 cases, ``m_g < mu - sd`` decided exactly,
    without a square root: ``mu - m_g > 0`` and ``(mu - m_g)^2 > variance`` (population variance)."""
    low = np.zeros(cases.shape[0], dtype=np.bool_)
    spread = mortality_spread(cases, deaths, weighted)
    if spread is not None:
        for g in spread.rates:
            low[g] = spread.is_low_risk(g)
    return low


def readmitted(person: Ints, adm_day: Ints, dscg_day: Ints) -> Flags:
    """Per case: does another case of the same person (any hospital) begin 0-15 days after it ended?

    Admissions are sorted by (person, day); for each discharge the admissions of that person in
    [discharge, discharge + 15] are counted by binary search, less the case itself when it starts on its own
    discharge day (a same-day stay). The discharges are searched in sorted order: each search then starts where
    the last one ended, in memory already cached (five times faster than in case order for a million cases).
    """
    admissions = np.sort(person * _DAY_SPAN + adm_day)
    window_start = person * _DAY_SPAN + dscg_day
    order = np.argsort(window_start)
    starts = window_start[order]
    found = np.empty(window_start.shape[0], dtype=np.int64)
    found[order] = (np.searchsorted(admissions, starts + READMISSION_DAYS, side="right")
                    - np.searchsorted(admissions, starts, side="left"))
    itself = (adm_day >= dscg_day) & (adm_day <= dscg_day + READMISSION_DAYS)
    others: Ints = found - itself.astype(np.int64)
    return others > 0


def exact_sums(keys: Ints, values: Ints, size: int) -> Ints:
    """Sum of ``values`` per key, exactly. Float sums of integers are exact while every partial sum stays below
    2**53, which the bound checks; beyond it integer accumulation, and Python integers past int64."""
    if values.size == 0:
        return np.zeros(size, dtype=np.int64)
    bound = int(values.size) * max(abs(int(values.min())), abs(int(values.max())))
    if bound < _FLOAT_EXACT:
        return np.bincount(keys, weights=values, minlength=size).astype(np.int64)
    if bound < _INT64_LIMIT:
        sums = np.zeros(size, dtype=np.int64)
        np.add.at(sums, keys, values)
        return sums
    wide = np.zeros(size, dtype=object)
    np.add.at(wide, keys, values.astype(object))
    return wide


def unique_codes(keys: Ints, bound: int) -> tuple[Ints, Ints]:
    """``np.unique(keys, return_inverse=True)`` for integer keys in ``[0, bound)``: the distinct keys in order
    and each key's index among them. A key space up to a few times the number of keys is counted instead of
    sorted (unit x group pairs of a million cases: about a third faster)."""
    if keys.size == 0 or bound > 4 * keys.size + (1 << 20):
        distinct, inverse = np.unique(keys, return_inverse=True)
        return distinct, inverse.reshape(-1).astype(np.int64)
    present = np.bincount(keys, minlength=bound) > 0
    rank = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present).astype(np.int64), rank[keys]


def _units(table: CaseTable, level: Level) -> tuple[tuple[str, ...], Ints]:
    """The units of a level: their labels and each case's unit code."""
    if level is Level.REGION:
        return (REGION_UNIT,), np.zeros(len(table), dtype=np.int64)
    if level is Level.HOSPITAL:
        return table.hospital_labels, table.hospital
    if level is Level.DOCTOR:
        return table.doctor_labels, table.doctor
    depts = len(table.dept_labels)
    pairs, codes = unique_codes(table.hospital * depts + table.dept, len(table.hospital_labels) * depts)
    hospital, dept = np.divmod(pairs, depts)
    labels = tuple(f"{table.hospital_labels[h]}/{table.dept_labels[d]}"
                   for h, d in zip(hospital.tolist(), dept.tolist(), strict=True))
    return labels, codes


def _level_rows(level: Level, labels: tuple[str, ...], unit: Ints, table: CaseTable,
                region: _RegionFigures) -> list[UnitIndicators]:
    size = len(labels)
    cases = np.bincount(unit, minlength=size)
    grouped = np.bincount(unit[region.case_grouped], minlength=size)
    weighted = region.case_weighted
    w_unit, w_group = unit[weighted], table.group[weighted]
    weighted_cases = np.bincount(w_unit, minlength=size)
    total_weight = exact_sums(w_unit, region.rw[w_group], size)
    pairs = _UnitGroups(w_unit, w_group, table.los[weighted], table.cost_fen[weighted], units=size,
                        groups=len(region.labels))
    drg_count = np.bincount(pairs.unit, minlength=size)
    time_index = pairs.efficiency(pairs.los, region.cases, region.los, weighted_cases, size)
    cost_index = pairs.efficiency(pairs.cost, region.cases, region.cost, weighted_cases, size)
    low_cases = np.bincount(unit[region.case_low_risk], minlength=size)
    low_deaths = np.bincount(unit[region.case_low_risk & table.died], minlength=size)
    readmits = np.bincount(unit[region.case_readmitted], minlength=size)

    columns = [array.tolist() for array in (cases, grouped, drg_count, total_weight, weighted_cases,
                                            low_cases, low_deaths, readmits)]
    rows = []
    for i, label in enumerate(labels):
        n, n_grouped, n_drg, weight, n_weighted, n_low, n_low_deaths, n_readmit = (c[i] for c in columns)
        if n == 0:  # a label of a subset's parent table: not a unit of these cases
            continue
        rows.append(UnitIndicators(
            level=level, unit=label, cases=n, grouped=n_grouped,
            grouping_rate=figure(round4_ratio(n_grouped, n)), drg_count=n_drg,
            total_weight=figure(weight), cmi=figure(round4_ratio(weight, n_weighted * SCALE)) if n_weighted else None,
            time_index=_maybe(time_index[i]), cost_index=_maybe(cost_index[i]),
            low_risk_cases=n_low, low_risk_deaths=n_low_deaths,
            low_risk_mortality=figure(round4_ratio(n_low_deaths, n_low)) if n_low else None,
            readmit15_rate=figure(round4_ratio(n_readmit, n))))
    rows.sort(key=lambda row: row.unit)  # code-point order of str is the byte order of its UTF-8
    return rows


def _maybe(ten_thousandths: int | None) -> Decimal | None:
    return None if ten_thousandths is None else figure(ten_thousandths)


class _UnitGroups:
    """The weighted cases of a level summed per (unit, group) pair, sorted by unit then group."""

    def __init__(self, unit: Ints, group: Ints, los: Ints, cost: Ints, *, units: int, groups: int) -> None:
        keys, pair = unique_codes(unit * groups + group, units * groups)
        self.unit, self.group = np.divmod(keys, groups)
        self.count = np.bincount(pair, minlength=keys.size)
        self.los = exact_sums(pair, los, keys.size)
        self.cost = exact_sums(pair, cost, keys.size)

    def efficiency(self, amount: Ints, region_cases: Ints, region_amount: Ints, weighted_cases: Ints,
                   size: int) -> list[int | None]:
        """Per unit, ``round_4(mean over its weighted cases of amount / regional mean amount of the group)``
        in ten-thousandths (``None`` without weighted cases); a group whose regional mean is 0 counts 1 a case.

        Per pair the term is ``amount * N_g / S_g``; the float estimate of a unit's mean has a relative error
        below ``(terms + 3) * 2**-53``, so only an estimate within twice that of a tie (x.5 ten-thousandths)
        can round differently from the exact value, and only those units are summed again as fractions.
        """
        totals = region_amount[self.group]
        counts = region_cases[self.group]
        zero = totals == 0
        ratio = counts.astype(np.float64) / np.where(zero, 1, totals).astype(np.float64)
        terms = np.where(zero, self.count.astype(np.float64), amount.astype(np.float64) * ratio)
        sums = np.bincount(self.unit, weights=terms, minlength=size)
        terms_per_unit = np.bincount(self.unit, minlength=size)
        has_cases = weighted_cases > 0
        scaled = sums / np.where(has_cases, weighted_cases, 1) * SCALE
        whole = np.floor(scaled)
        part = scaled - whole
        margin = scaled * (terms_per_unit + 8) * 4.5e-16
        estimate = (whole + (part > 0.5)).astype(np.int64).tolist()
        near_tie = np.flatnonzero(has_cases & (np.abs(part - 0.5) <= margin)).tolist()
        result: list[int | None] = [value if has else None
                                    for value, has in zip(estimate, has_cases.tolist(), strict=True)]
        for u in near_tie:
            result[u] = self._exact(u, amount, region_cases, region_amount, int(weighted_cases[u]))
        return result

    def _exact(self, u: int, amount: Ints, region_cases: Ints, region_amount: Ints, weighted_cases: int) -> int:
        first, end = np.searchsorted(self.unit, [u, u + 1])
        total = Fraction(0)
        for p in range(int(first), int(end)):
            g = int(self.group[p])
            denominator = int(region_amount[g])
            if denominator == 0:
                total += int(self.count[p])
            else:
                total += Fraction(int(amount[p]) * int(region_cases[g]), denominator)
        return round4(total / weighted_cases)
