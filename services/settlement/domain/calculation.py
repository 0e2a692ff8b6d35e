"""FORMAT steps 2-4: from a year's cases, a policy and a weight table to case results and hospital statements.

:func:`settle` is the whole calculation; the per-case loops run over integer columns with the constants of
:mod:`.case_rules`, and every sum is an exact integer until FORMAT rounds it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from fractions import Fraction

from .case_rules import PointRule, RateRule, item_points, point_rule, rate_rule
from .cases import CaseTable
from .errors import CalculationError
from .exact import SCALE2, SCALE4, SCALE6, half_up, round_units
from .policy import Method, Policy
from .results import NONE, CaseResults, Kind, Settlement, empty_results
from .statements import point_statements, rate_statements
from .weights import GroupWeight, WeightTable

ProgressFn = Callable[[int], None]


def check_special_cases(policy: Policy, cases: CaseTable, *, enforce_cap: bool = True) -> set[str]:
    """The approved special cases, after FORMAT's checks: each is a case id, and (``enforce_cap``) they are within the
    cap of ``cases``."""
    approved = set(policy.approved_special_cases)
    known = set(cases.case_ids) if approved else set()
    for case_id in policy.approved_special_cases:
        if case_id not in known:
            raise CalculationError("special_cases.approved", f"{case_id!r} is not a case id of the cases")
    if not enforce_cap:
        return approved
    cap = math.floor(Fraction(policy.special_cap_share) * len(cases))
    if len(approved) > cap:
        raise CalculationError("special_cases.cap_share", f"{len(approved)} approved special cases exceed the "
                               f"cap of {cap} (floor of cap_share {policy.special_cap_share} x {len(cases)} cases)")
    return approved


class _Coefficients:
    """Each case's coefficient as a small index: the hospital's own, else its level's."""

    def __init__(self, policy: Policy, cases: CaseTable) -> None:
        self.values: list[Fraction] = []
        index: dict[Fraction, int] = {}
        self.by_hospital_level: list[int] = []
        for code in cases.hospital_codes:
            for level in ("0", "1", "2", "3"):
                if level not in policy.levels:
                    self.by_hospital_level.append(-1)
                    continue
                value = Fraction(policy.coefficient(code, level))
                self.by_hospital_level.append(index.setdefault(value, len(index)))
        self.values = sorted(index, key=index.__getitem__)


def _check_levels(policy: Policy, cases: CaseTable) -> None:
    for level in cases.levels_used():
        if level not in policy.levels:
            raise CalculationError(f"levels.{level}", "cases use this level but the parameters have no entry")


def _group_weights(cases: CaseTable, weights: WeightTable) -> list[GroupWeight | None]:
    return [weights.groups.get(code) for code in cases.group_codes]


def settle(policy: Policy, weights: WeightTable, cases: CaseTable, progress: ProgressFn | None = None, *,
           special_cap: bool = True) -> Settlement:
    """The settlement of ``cases`` (FORMAT steps 2-4) under ``policy`` with ``weights``.

    ``special_cap=False`` for a part of the year (a month's advance): the approved special cases were held to the
    cap of the year's cases when they were approved, and a month is not held to a cap of its own."""
    _check_levels(policy, cases)
    approved = check_special_cases(policy, cases, enforce_cap=special_cap)
    try:
        return _settle(policy, weights, cases, approved, progress)
    except OverflowError:  # a result column holds 64-bit integers
        raise CalculationError("cases", "a case's points, standard or amount is beyond the largest figure "
                               "settlement holds (2**63 - 1 units of 1/10,000 point or of a fen): look at the "
                               "scale, the weights and the costs") from None


def _settle(policy: Policy, weights: WeightTable, cases: CaseTable, approved: set[str],
            progress: ProgressFn | None) -> Settlement:
    if policy.method is Method.POINTS:
        results = _point_cases(policy, weights, cases, approved, progress)
        if policy.readmission_days > 0:
            halve_readmissions(cases, results, policy.readmission_days)
        return _point_settlement(policy, weights, cases, results)
    rates = level_rates(policy, weights, cases)
    results = _rate_cases(policy, weights, cases, (approved, rates), progress)
    hospitals = rate_statements(policy, cases, results)
    return Settlement(Method.RATE, results, hospitals, weights.avg_all, rates=rates)


_CHUNK = 1 << 16


def _chunks(n: int, progress: ProgressFn | None) -> Iterator[range]:
    for start in range(0, n, _CHUNK):
        if progress is not None:
            progress(start)
        yield range(start, min(n, start + _CHUNK))


def _point_cases(policy: Policy, weights: WeightTable, cases: CaseTable, approved: set[str],
                 progress: ProgressFn | None) -> CaseResults:
    n = len(cases)
    out = empty_results(n)
    kind, rw_col, bp_col, pts = out.kind, out.rw, out.base_points, out.points
    coefs = _Coefficients(policy, cases)
    by_hl, ncoef = coefs.by_hospital_level, max(len(coefs.values), 1)
    gweights = _group_weights(cases, weights)
    group_rw = [NONE if gw is None else gw.rw for gw in gweights]
    items = item_points(policy, weights.avg_all)
    i0, i1, iden, iden2 = 2 * items.num0, 2 * items.num1, items.den, 2 * items.den
    rules: dict[int, tuple[int, ...]] = {}
    ids, group, hospital, level, cost = cases.case_ids, cases.group, cases.hospital, cases.level, cases.total_cost
    high_kind, low_kind, special_kind, item_kind = int(Kind.HIGH), int(Kind.LOW), int(Kind.SPECIAL), int(Kind.BY_ITEM)
    for chunk in _chunks(n, progress):
        for i in chunk:
            c, g = cost[i], group[i]
            rw = rw_col[i] = group_rw[g]
            special = approved and ids[i] in approved
            if rw == NONE or special:
                kind[i] = special_kind if special else item_kind
                pts[i] = (i0 + i1 * c + iden) // iden2
                continue
            coef = by_hl[hospital[i] * 4 + level[i]]
            key = g * ncoef + coef
            rule = rules.get(key)
            if rule is None:
                rule = rules[key] = _point_tuple(point_rule(policy, weights.groups[cases.group_codes[g]],
                                                            coefs.values[coef]))
            bp_col[i] = rule[0]
            if c > rule[1]:
                kind[i] = high_kind
                pts[i] = (rule[4] + rule[5] * c + rule[6]) // rule[7]
            elif c < rule[2]:
                kind[i] = low_kind
                pts[i] = (rule[8] * c + rule[9]) // rule[10]
            else:
                pts[i] = rule[3]
    return out


def _point_tuple(rule: PointRule) -> tuple[int, ...]:
    """A rule as a flat tuple for the hot loop; half-up rounding of ``(a + b c) / d`` as ``(2a + 2bc + d) // 2d``."""
    h, lo = rule.high, rule.low
    return (rule.base_points, rule.high_above, rule.low_below, rule.normal, 2 * h.num0, 2 * h.num1, h.den,
            2 * h.den, 2 * lo.num1, lo.den, 2 * lo.den)


def halve_readmissions(cases: CaseTable, results: CaseResults, days: int) -> None:
    """FORMAT's readmission rule: a normal, high or low case is halved when the next stay of the same person at
    the same hospital (by admission date, then case id) has the same group and starts 0 to ``days`` days after
    its discharge.

    Only people with more than one stay can be readmitted; their stays are ordered by one integer key
    (person, hospital, admission day) and the rare equal keys by case id."""
    person, hospital, adm, dscg, group, ids = (cases.person, cases.hospital, cases.adm_day, cases.dscg_day,
                                               cases.group, cases.case_ids)
    repeated = {p for p, count in Counter(person).items() if count > 1}
    if not repeated:
        return
    stays = [i for i, p in enumerate(person) if p in repeated]
    width = len(cases.hospital_codes)
    keys = [((person[i] * width + hospital[i]) << _DAY_BITS) | adm[i] for i in stays]
    order = sorted(range(len(stays)), key=keys.__getitem__)
    stays, keys = [stays[j] for j in order], [keys[j] for j in order]
    _order_equal_keys_by_case_id(stays, keys, ids)
    kind, points, halved = results.kind, results.points, results.halved
    for a in range(len(stays) - 1):
        this, following = stays[a], stays[a + 1]
        if kind[this] <= Kind.LOW and keys[a] >> _DAY_BITS == keys[a + 1] >> _DAY_BITS \
                and group[following] == group[this] and 0 <= adm[following] - dscg[this] <= days:
            points[this] = half_up(points[this], 2)
            halved[this] = 1


_DAY_BITS = 22
"""Day ordinals of four-digit years stay below 2**22."""


def _order_equal_keys_by_case_id(stays: list[int], keys: list[int], ids: list[str]) -> None:
    start = 0
    for a in range(1, len(stays) + 1):
        if a == len(stays) or keys[a] != keys[start]:
            if a - start > 1:
                stays[start:a] = sorted(stays[start:a], key=ids.__getitem__)
            start = a


def _point_settlement(policy: Policy, weights: WeightTable, cases: CaseTable, results: CaseResults) -> Settlement:
    total_points = sum(results.points)
    total_cost = sum(cases.total_cost)
    if total_cost == 0:
        raise CalculationError("cases", "the total cost of all cases is 0, so there is no fund ratio")
    fund_ratio = round_units(Fraction(sum(cases.fund_paid), total_cost), SCALE6)
    if fund_ratio == 0 or total_points == 0:
        raise CalculationError("point_value", "the fund ratio or the total points of the year are 0")
    assert policy.budget is not None  # required for the point method by policy_from_json
    available = round_units(Fraction(policy.budget) * (1 - Fraction(policy.adjustment_share)), SCALE2)
    # available (fen) / fund_ratio (1e-6) / total_points (1e-4), in yuan per point to 1e-6
    point_value = round_units(Fraction(available * SCALE6 * SCALE4 * SCALE6, SCALE2 * fund_ratio * total_points),
                              1)
    hospitals = point_statements(policy, cases, results, point_value, fund_ratio)
    return Settlement(Method.POINTS, results, hospitals, weights.avg_all, total_points=total_points,
                      fund_ratio=fund_ratio, point_value=point_value)


def level_rates(policy: Policy, weights: WeightTable, cases: CaseTable) -> dict[str, int]:
    """``rate_L`` in fen for every level the cases use: ``rates.fixed``, else ``round_2(adjust x S_cost / S_rw)``
    over the kept latest-base-year history of the level in weighted groups."""
    rates = {}
    for level in cases.levels_used():
        if level in policy.fixed_rates:
            rates[level] = round_units(Fraction(policy.fixed_rates[level]), SCALE2)
            continue
        basis = weights.level_basis.get(int(level))
        if basis is None or basis.rw == 0:
            raise CalculationError(f"rates.fixed.{level}", f"level {level} has cases but neither kept history of "
                                   f"{policy.weights.latest_year} in a weighted group nor a fixed rate")
        # adjust x (S_cost fen / 100) / (S_rw / 1e4), in fen
        rates[level] = round_units(Fraction(policy.rate_adjust) * Fraction(basis.cost * SCALE4, basis.rw), 1)
    return rates


def _rate_cases(policy: Policy, weights: WeightTable, cases: CaseTable,
                approved_and_rates: tuple[set[str], dict[str, int]], progress: ProgressFn | None) -> CaseResults:
    approved, rates = approved_and_rates
    n = len(cases)
    out = empty_results(n)
    kind, rw_col, std_col, basis_col, due_col = out.kind, out.rw, out.standard, out.basis, out.fund_due
    coefs = _Coefficients(policy, cases)
    by_hl, ncoef = coefs.by_hospital_level, max(len(coefs.values), 1)
    group_rw = [NONE if gw is None else gw.rw for gw in _group_weights(cases, weights)]
    rules: dict[int, RateRule] = {}
    ids, group, hospital, level = cases.case_ids, cases.group, cases.hospital, cases.level
    cost, personal = cases.total_cost, cases.personal_paid
    high_kind, low_kind, special_kind, item_kind = int(Kind.HIGH), int(Kind.LOW), int(Kind.SPECIAL), int(Kind.BY_ITEM)
    for chunk in _chunks(n, progress):
        for i in chunk:
            c, g = cost[i], group[i]
            rw = rw_col[i] = group_rw[g]
            special = approved and ids[i] in approved
            if rw == NONE or special:
                kind[i] = special_kind if special else item_kind
                basis = c
            else:
                lv = level[i]
                coef = by_hl[hospital[i] * 4 + lv]
                key = (g * 4 + lv) * ncoef + coef
                rule = rules.get(key)
                if rule is None:
                    rule = rules[key] = rate_rule(policy, weights.groups[cases.group_codes[g]], rates[str(lv)],
                                                  str(lv), coefs.values[coef])
                std_col[i] = basis = rule.standard
                if c > rule.high_above:
                    kind[i], basis = high_kind, c
                elif c < rule.low_below:
                    kind[i], basis = low_kind, c
            basis_col[i] = basis
            due = basis - personal[i]
            due_col[i] = due if due > 0 else 0
    return out


__all__ = ["NONE", "check_special_cases", "halve_readmissions", "level_rates", "settle"]
