"""FORMAT step 4 (and the rate method's): what each hospital is owed, advanced and left with.

Case amounts are summed per hospital and per (hospital, discharge month) in one pass over the columns;
FORMAT rounds the gross, the assessed amount and each month's advance, nothing else.
"""

from __future__ import annotations

from array import array
from fractions import Fraction

from .cases import CaseTable
from .exact import SCALE2, SCALE4, SCALE6, half_up, round_units
from .policy import Policy
from .results import NONE, CaseResults, HospitalStatement, MonthLine


class _Sums:
    """Per-hospital counts, amounts and weights, and per-(hospital, month) amounts of one amount column.

    The (hospital, month) cells are a dense list indexed arithmetically (a year has few months), falling back to
    a dict when the discharge months span decades."""

    def __init__(self, cases: CaseTable, results: CaseResults, amount: array[int]) -> None:
        h_count = len(cases.hospital_codes)
        first = min(cases.month, default=0)
        span = max(cases.month, default=0) - first + 1
        if span * h_count > 1_000_000:
            self._sparse(cases, results, amount)
            return
        cells = [0] * (span * h_count)
        counts = [0] * (span * h_count)
        rw_sum = [0] * (span * h_count)
        rw_n = [0] * (span * h_count)
        hospital, month, rw = cases.hospital, cases.month, results.rw
        for i in range(len(cases)):
            cell = hospital[i] * span + month[i] - first
            cells[cell] += amount[i]
            counts[cell] += 1
            r = rw[i]
            if r != NONE:
                rw_sum[cell] += r
                rw_n[cell] += 1
        rows = [range(h * span, (h + 1) * span) for h in range(h_count)]
        self.cases = [sum(counts[c] for c in row) for row in rows]
        self.amount = [sum(cells[c] for c in row) for row in rows]
        self.rw_sum = [sum(rw_sum[c] for c in row) for row in rows]
        self.rw_cases = [sum(rw_n[c] for c in row) for row in rows]
        self.months = [{first + c - row.start: cells[c] for c in row if counts[c]} for row in rows]

    def _sparse(self, cases: CaseTable, results: CaseResults, amount: array[int]) -> None:
        h_count = len(cases.hospital_codes)
        self.cases, self.amount, self.rw_sum, self.rw_cases = ([0] * h_count for _ in range(4))
        self.months = [{} for _ in range(h_count)]
        for i in range(len(cases)):
            h, a, r = cases.hospital[i], amount[i], results.rw[i]
            self.cases[h] += 1
            self.amount[h] += a
            if r != NONE:
                self.rw_sum[h] += r
                self.rw_cases[h] += 1
            own = self.months[h]
            own[cases.month[i]] = own.get(cases.month[i], 0) + a

    def cmi(self, h: int) -> int:
        """``round_4(sum RW / count)`` over the hospital's cases in weighted groups; 0 when none."""
        return half_up(self.rw_sum[h], self.rw_cases[h]) if self.rw_cases[h] else 0


def _order(cases: CaseTable) -> list[int]:
    return sorted(range(len(cases.hospital_codes)), key=cases.hospital_codes.__getitem__)


def _deductions(policy: Policy, code: str) -> int:
    return round_units(Fraction(policy.hospital(code).deductions), SCALE2)


def point_statements(policy: Policy, cases: CaseTable, results: CaseResults, point_value: int,
                     fund_ratio: int) -> tuple[HospitalStatement, ...]:
    """``gross = round_2(points x point_value x fund_ratio)``; advances per discharge month at the provisional
    point value and the advance share; ``balance = assessed - advances - deductions``."""
    sums = _Sums(cases, results, results.points)
    ppv, share = Fraction(policy.provisional_point_value), Fraction(policy.advance_share)
    # points (1e-4) x ppv x fund ratio (1e-6) x share, in fen
    advance_factor = ppv * share * Fraction(fund_ratio * SCALE2, SCALE4 * SCALE6)
    a_num, a_den = advance_factor.numerator, advance_factor.denominator
    out = []
    for h in _order(cases):
        code = cases.hospital_codes[h]
        gross = half_up(sums.amount[h] * point_value * fund_ratio * SCALE2, SCALE4 * SCALE6 * SCALE6)
        assessment = Fraction(policy.hospital(code).assessment)
        assessed = half_up(gross * assessment.numerator, assessment.denominator)
        months = tuple(MonthLine(m, points, half_up(points * a_num, a_den))
                       for m, points in sorted(sums.months[h].items()))
        advances = sum(line.advance for line in months)
        deductions = _deductions(policy, code)
        out.append(HospitalStatement(code, sums.cases[h], sums.amount[h], sums.cmi(h), gross, assessed, advances,
                                     deductions, assessed - advances - deductions, None, months))
    return tuple(out)


def rate_statements(policy: Policy, cases: CaseTable, results: CaseResults) -> tuple[HospitalStatement, ...]:
    """``due`` = sum of fund due; advances per discharge month at the advance share; the surplus (basis - cost)
    is shown, not paid."""
    sums = _Sums(cases, results, results.fund_due)
    share = Fraction(policy.advance_share)
    surplus = [0] * len(cases.hospital_codes)
    hospital, basis, cost = cases.hospital, results.basis, cases.total_cost
    for i in range(len(cases)):
        surplus[hospital[i]] += basis[i] - cost[i]
    out = []
    for h in _order(cases):
        code = cases.hospital_codes[h]
        due = sums.amount[h]
        assessment = Fraction(policy.hospital(code).assessment)
        assessed = half_up(due * assessment.numerator, assessment.denominator)
        months = tuple(MonthLine(m, amount, half_up(amount * share.numerator, share.denominator))
                       for m, amount in sorted(sums.months[h].items()))
        advances = sum(line.advance for line in months)
        deductions = _deductions(policy, code)
        out.append(HospitalStatement(code, sums.cases[h], None, sums.cmi(h), due, assessed, advances, deductions,
                                     assessed - advances - deductions, surplus[h], months))
    return tuple(out)
