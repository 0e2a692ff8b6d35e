"""Settlement runs as pure computation: a monthly advance (pre-settlement, with adjustments of months advanced
before) and the year-end clearing, from collected cases, a policy, a weight table and what earlier runs paid.

- **Advance** of month M: FORMAT's calculation over M's active cases gives each hospital's advance
  (``round_2(points x provisional_point_value x fund_ratio x advance_share)``, or ``due x advance_share`` under
  the rate method). For every month advanced before, a hospital whose cases of that month changed since they
  were last paid (a revised or revoked list: another set of list revisions) gets an **adjustment**: the month's
  advance recomputed on its current cases minus what was paid for it so far. History is never edited.
- **Clearing** of year Y: FORMAT's calculation over the year's active cases gives gross and assessed amounts; a
  hospital's balance is ``assessed - advances paid over the year (adjustments included) - deductions``, where
  ``deductions`` = the policy's (FORMAT's ``hospitals.<code>.deductions``) + what smart review confirmed for the
  year (``RunInputs.review_deductions``, pinned when the run started). FORMAT deducts at the year's balance only:
  an advance deducts nothing of its own year.
- **Carried review deductions**: what review confirmed for an earlier year after that year's clearing, not
  deducted by any run yet (``RunInputs.review_carried``, worked out by the service layer), is deducted by the
  next run, advance or clearing, like an adjustment: ``deductions`` and ``review_deductions`` include it, the
  balance goes down by it and the statement names it by year (``review_carried``). Cleared runs are never edited.

Everything here is a function of its arguments: the same inputs give byte-identical statement documents.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction
from typing import Any

from libs.common.money import Money

from .calculation import settle
from .case_rules import band_k
from .cases import CaseTable
from .collected import EMPTY_DIGEST, CollectedCase, case_table, cases_digest
from .exact import SCALE4, SCALE6, fixed, round_units
from .policies import GroupScheme
from .policy import Method, Policy
from .results import NONE, Kind, Settlement
from .weights import WeightTable


class RunType(StrEnum):
    ADVANCE = "advance"
    CLEARING = "clearing"


@dataclass(frozen=True)
class MonthLine:
    """One amount a run pays a hospital for one settlement month."""

    month: str
    kind: str
    """``advance`` (the run's own month) or ``adjustment`` (a month advanced before)."""
    amount: int
    """fen, signed."""
    cases: int
    cases_digest: str
    """The hospital's list revisions of that month the amount was computed from."""

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "kind": self.kind, "amount": fixed(self.amount, 2), "cases": self.cases,
                "cases_digest": self.cases_digest}

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> MonthLine:
        return MonthLine(raw["month"], raw["kind"], Money.parse(raw["amount"]).fen, int(raw["cases"]),
                         raw["cases_digest"])


@dataclass(frozen=True)
class RunStatement:
    """What one run says to one hospital; money in fen, points and CMI in 1/10,000."""

    hospital: str
    cases: int
    points: int | None
    cmi: int
    gross: int
    assessed: int
    advances: int
    adjustments: int
    deductions: int
    balance: int
    surplus: int | None
    months: tuple[MonthLine, ...] = ()
    case_kinds: dict[str, int] = field(default_factory=dict)
    """Its cases per kind (``normal``, ``high``, ``low``, ``by_item``, ``special``; kinds with cases only)."""
    review_deductions: int = 0
    """Of ``deductions``, the amounts smart review confirmed (its year's in a clearing, and carried ones); the rest
    is the policy's."""
    review_carried: tuple[tuple[str, int], ...] = ()
    """(year, fen) of ``review_deductions`` confirmed for an earlier year after its clearing."""

    def document(self, header: Mapping[str, str]) -> bytes:
        """The statement as canonical JSON (keys sorted, fixed places): the bytes a re-run reproduces."""
        body: dict[str, Any] = {**header, "hospital": self.hospital, "cases": self.cases,
                "points": None if self.points is None else fixed(self.points, 4), "cmi": fixed(self.cmi, 4),
                "gross": fixed(self.gross, 2), "assessed": fixed(self.assessed, 2),
                "advances": fixed(self.advances, 2), "adjustments": fixed(self.adjustments, 2),
                "deductions": fixed(self.deductions, 2), "balance": fixed(self.balance, 2),
                "surplus": None if self.surplus is None else fixed(self.surplus, 2),
                "months": [m.to_json() for m in self.months], "case_kinds": self.case_kinds}
        if self.review_deductions:  # only then: statements of runs without them keep their bytes
            body["review_deductions"] = fixed(self.review_deductions, 2)
        if self.review_carried:
            body["review_carried"] = {year: fixed(fen, 2) for year, fen in self.review_carried}
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class CaseOutcome:
    """How one case was settled (FORMAT's cases.csv row) and the terms of its formula, as text."""

    list_id: str
    revision: int
    hospital: str
    month: str
    group: str
    kind: Kind
    rw: int | None
    base_points: int | None
    points: int | None
    standard: int | None
    basis: int | None
    fund_due: int | None
    halved: bool
    total_cost: int
    terms: dict[str, str]


@dataclass(frozen=True)
class RunOutcome:
    method: Method
    cases: tuple[CaseOutcome, ...]
    statements: tuple[RunStatement, ...]
    """By institution code."""
    avg_all: Fraction
    total_points: int | None = None
    fund_ratio: int | None = None
    point_value: int | None = None
    rates: dict[str, int] | None = None

    def totals(self) -> dict[str, str]:
        """The run's figures as text (FORMAT's places)."""
        s = self.statements
        out = {"cases": str(len(self.cases)), "hospitals": str(len(s)),
               "avg_all": fixed(round_units(self.avg_all, 100), 2),
               **{name: fixed(sum(getattr(x, name) for x in s), 2)
                  for name in ("gross", "assessed", "advances", "adjustments", "deductions", "balance")}}
        if self.total_points is not None:
            out["total_points"] = fixed(self.total_points, 4)
        if self.fund_ratio is not None:
            out["fund_ratio"] = fixed(self.fund_ratio, 6)
        if self.point_value is not None:
            out["point_value"] = fixed(self.point_value, 6)
        for level, rate in sorted((self.rates or {}).items()):
            out[f"rate_{level}"] = fixed(rate, 2)
        for kind in Kind:
            out[f"cases_{kind.label}"] = str(sum(1 for c in self.cases if c.kind is kind))
        return out


@dataclass(frozen=True)
class Paid:
    """What earlier runs paid one hospital for one month: the sum, and the cases the last amount was for."""

    amount: int = 0
    cases_digest: str = EMPTY_DIGEST


@dataclass(frozen=True)
class RunInputs:
    policy: Policy
    weights: WeightTable
    scheme: GroupScheme
    approved: frozenset[str] = frozenset()
    """List ids approved as special cases (of any month of the year)."""
    paid: Mapping[tuple[str, str], Paid] = field(default_factory=dict)
    """(hospital, month) -> what earlier runs of the year paid."""
    review_deductions: Mapping[str, int] = field(default_factory=dict)
    """hospital -> fen smart review confirmed for the year (its flags' amounts), deducted by the clearing."""
    review_carried: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """year -> hospital -> fen review confirmed for an earlier, cleared year and no run deducted yet: this run
    deducts it (advance or clearing)."""

    def carried(self) -> dict[str, tuple[tuple[str, int], ...]]:
        """hospital -> its carried amounts as (year, fen), years in order, zeros left out."""
        out: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for year in sorted(self.review_carried):
            for code, fen in sorted(self.review_carried[year].items()):
                if fen:
                    out[code].append((year, fen))
        return {code: tuple(lines) for code, lines in out.items()}


def _settle(inputs: RunInputs, active: Sequence[CollectedCase]) -> tuple[Settlement, CaseTable]:
    """FORMAT's calculation over ``active`` with the year's approved special cases among them, not held to
    FORMAT's cap again: the bureau approved each within the cap of the year's cases (the approval that would
    pass it is refused), while a month's few cases would have a cap of their own (0 below 20 cases at a share of
    0.05), and lists revoked after the approvals would lower the year's, leaving a clearing that no decision
    could unblock (an approval is final)."""
    table = case_table(active, inputs.scheme)
    ids = set(table.case_ids)
    approved = tuple(sorted(i for i in inputs.approved if i in ids))
    return settle(inputs.policy.with_approved(approved), inputs.weights, table, special_cap=False), table


def _by_hospital(cases: Sequence[CollectedCase]) -> dict[str, list[CollectedCase]]:
    out: dict[str, list[CollectedCase]] = defaultdict(list)
    for case in cases:
        out[case.hospital].append(case)
    return out


def month_advances(inputs: RunInputs, active: Sequence[CollectedCase]) -> dict[str, int]:
    """Each hospital's advance for one month's active cases (fen)."""
    if not active:
        return {}
    settlement, _ = _settle(inputs, active)
    return {h.hospital: h.advances for h in settlement.hospitals}


def adjustments(inputs: RunInputs, earlier: Mapping[str, Sequence[CollectedCase]]) -> dict[str, list[MonthLine]]:
    """For each month advanced before (its current active cases), the adjustment lines of the hospitals whose
    cases of it changed since they were last paid."""
    out: dict[str, list[MonthLine]] = defaultdict(list)
    paid_hospitals: dict[str, set[str]] = defaultdict(set)
    for hospital, month in inputs.paid:
        paid_hospitals[month].add(hospital)
    for month in sorted(earlier):
        active = [c for c in earlier[month] if c.active]
        by_hospital = _by_hospital(active)
        hospitals = sorted(set(by_hospital) | paid_hospitals[month])
        changed = [h for h in hospitals if cases_digest(by_hospital.get(h, ()), inputs.scheme)
                   != inputs.paid.get((h, month), Paid()).cases_digest]
        if not changed:
            continue
        now = month_advances(inputs, active)
        for h in changed:
            before = inputs.paid.get((h, month), Paid())
            mine = by_hospital.get(h, [])
            out[h].append(MonthLine(month, "adjustment", now.get(h, 0) - before.amount, len(mine),
                                    cases_digest(mine, inputs.scheme)))
    return out


def advance(inputs: RunInputs, month: str, cases: Sequence[CollectedCase],
            earlier: Mapping[str, Sequence[CollectedCase]]) -> RunOutcome:
    """The monthly advance of ``month`` (its cases as of the run's sequence), with adjustments of ``earlier``
    months (each month advanced before, its cases as of the same sequence)."""
    active = [c for c in cases if c.active]
    lines = adjustments(inputs, earlier)
    if active:
        settlement, table = _settle(inputs, active)
        outcomes = case_outcomes(inputs, settlement, table, active)
    else:
        settlement, outcomes = None, ()
    by_hospital = _by_hospital(active)
    own = {h.hospital: h for h in settlement.hospitals} if settlement else {}
    carried = inputs.carried()
    statements = []
    for code in sorted(set(own) | set(lines) | set(carried)):  # a carried deduction needs no cases of the month
        h = own.get(code)
        adjusted = sum(line.amount for line in lines.get(code, ()))
        paid = h.advances if h else 0
        mine = by_hospital.get(code, [])
        months = ((MonthLine(month, "advance", paid, len(mine), cases_digest(mine, inputs.scheme)),) if h else ()) \
            + tuple(lines.get(code, ()))
        review = carried.get(code, ())
        deducted = sum(fen for _, fen in review)
        statements.append(RunStatement(
            hospital=code, cases=h.cases if h else 0, points=h.points if h else None, cmi=h.cmi if h else 0,
            gross=0, assessed=0, advances=paid, adjustments=adjusted, deductions=deducted,
            balance=paid + adjusted - deducted, surplus=h.surplus if h else None, months=months,
            review_deductions=deducted, review_carried=review))
    return _outcome(inputs, settlement, outcomes, statements)


def clearing(inputs: RunInputs, cases: Sequence[CollectedCase]) -> RunOutcome:
    """The year-end clearing over the year's cases (as of the run's sequence) against what was advanced."""
    active = [c for c in cases if c.active]
    settlement, table = _settle(inputs, active) if active else (None, None)
    outcomes = case_outcomes(inputs, settlement, table, active) if settlement and table else ()
    advanced: dict[str, int] = defaultdict(int)
    for (hospital, _), paid in inputs.paid.items():
        advanced[hospital] += paid.amount
    own = {h.hospital: h for h in settlement.hospitals} if settlement else {}
    review = {code: fen for code, fen in inputs.review_deductions.items() if fen}
    carried = inputs.carried()
    statements = []
    for code in sorted(set(own) | set(advanced) | set(review) | set(carried)):  # never dropped for want of cases
        h = own.get(code)
        assessed, deductions = (h.assessed, h.deductions) if h else (0, 0)
        confirmed = review.get(code, 0) + sum(fen for _, fen in carried.get(code, ()))
        deductions += confirmed
        statements.append(RunStatement(
            hospital=code, cases=h.cases if h else 0, points=h.points if h else None, cmi=h.cmi if h else 0,
            gross=h.gross if h else 0, assessed=assessed, advances=advanced[code], adjustments=0,
            deductions=deductions, balance=assessed - advanced[code] - deductions,
            surplus=h.surplus if h else None, review_deductions=confirmed, review_carried=carried.get(code, ())))
    return _outcome(inputs, settlement, outcomes, statements)


def _kinds(outcomes: Sequence[CaseOutcome]) -> dict[str, dict[str, int]]:
    counts = Counter((case.hospital, case.kind) for case in outcomes)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (hospital, kind), n in sorted(counts.items()):
        out[hospital][kind.label] = n
    return {h: dict(sorted(c.items())) for h, c in out.items()}


def _outcome(inputs: RunInputs, settlement: Settlement | None, outcomes: Sequence[CaseOutcome],
             statements: list[RunStatement]) -> RunOutcome:
    kinds = _kinds(outcomes)
    statements = [replace(s, case_kinds=kinds.get(s.hospital, {})) for s in statements]
    if settlement is None:
        return RunOutcome(inputs.policy.method, tuple(outcomes), tuple(statements), inputs.weights.avg_all)
    return RunOutcome(settlement.method, tuple(outcomes), tuple(statements), settlement.avg_all,
                      settlement.total_points, settlement.fund_ratio, settlement.point_value, settlement.rates)


def _opt(value: int) -> int | None:
    return None if value == NONE else value


def case_outcomes(inputs: RunInputs, settlement: Settlement, table: CaseTable,
                  active: Sequence[CollectedCase]) -> tuple[CaseOutcome, ...]:
    r = settlement.results
    terms = _Terms(inputs, settlement)
    out = []
    for i, case in enumerate(active):
        kind = Kind(r.kind[i])
        out.append(CaseOutcome(
            list_id=case.list_id, revision=case.revision, hospital=case.hospital, month=case.month,
            group=table.group_codes[table.group[i]], kind=kind, rw=_opt(r.rw[i]), base_points=_opt(r.base_points[i]),
            points=_opt(r.points[i]), standard=_opt(r.standard[i]), basis=_opt(r.basis[i]),
            fund_due=_opt(r.fund_due[i]), halved=bool(r.halved[i]), total_cost=case.total_fen,
            terms=terms.of(case, kind, halved=bool(r.halved[i]))))
    return tuple(out)


class _Terms:
    """The terms of each case's formula: what depends on the group, the coefficient and the kind is worked out
    once per such combination, the case's own cost (and share) added per case."""

    def __init__(self, inputs: RunInputs, settlement: Settlement) -> None:
        self._inputs = inputs
        self._settlement = settlement
        self._fixed: dict[tuple[str, str, int, Kind], dict[str, str]] = {}

    def of(self, case: CollectedCase, kind: Kind, *, halved: bool) -> dict[str, str]:
        group = case.group(self._inputs.scheme)
        key = (group, case.hospital, case.hospital_level, kind)
        fixed_terms = self._fixed.get(key)
        if fixed_terms is None:
            fixed_terms = self._fixed[key] = case_terms(self._inputs, self._settlement, group, case, kind)
        terms = {**fixed_terms, "total_cost": fixed(case.total_fen, 2)}
        if self._inputs.policy.method is Method.RATE:
            terms["personal_paid"] = fixed(case.personal_fen, 2)
        if halved:
            terms["readmission"] = (f"readmitted with the same group within {self._inputs.policy.readmission_days} "
                                    "days: points = round_4(points / 2)")
        return terms


def case_terms(inputs: RunInputs, settlement: Settlement, group: str, case: CollectedCase,
               kind: Kind) -> dict[str, str]:
    """The values FORMAT's formula of this kind of case used (but the case's own cost), and the formula."""
    policy = inputs.policy
    terms = {"scale": str(policy.scale)}
    if policy.method is Method.RATE:
        terms["fund_due"] = "fund_due = max(0, basis - personal_paid)"
    if kind in (Kind.SPECIAL, Kind.BY_ITEM):
        terms["avg_all"] = fixed(round_units(settlement.avg_all, SCALE6), 6)
        terms["formula"] = ("points = round_4(total_cost / avg_all x scale)" if policy.method is Method.POINTS
                            else "basis = total_cost")
        return terms
    weight = inputs.weights.groups[group]
    coefficient = policy.coefficient(case.hospital, str(case.hospital_level))
    terms.update({"rw": fixed(weight.rw, 4), "standard_cost": fixed(weight.standard, 2),
                  "coefficient": str(coefficient), "low_ratio": str(policy.low_ratio)})
    if policy.method is Method.POINTS:
        bp = Fraction(weight.rw, SCALE4) * Fraction(policy.scale)
        terms["base_points"] = fixed(round_units(bp, SCALE4), 4)
        terms["k"] = str(band_k(policy, weight.group, bp).limit_denominator(10**6))
        terms["formula"] = {
            Kind.NORMAL: "points = round_4(base_points x coefficient)",
            Kind.HIGH: "points = round_4(base_points x coefficient + (total_cost / standard_cost - k) x base_points)",
            Kind.LOW: "points = round_4(base_points x total_cost / standard_cost)"}[kind]
    else:
        assert settlement.rates is not None
        terms["rate"] = fixed(settlement.rates[str(case.hospital_level)], 2)
        terms["high_k"] = str(policy.levels[str(case.hospital_level)].high_k)
        terms["formula"] = {Kind.NORMAL: "standard = round_2(rw x rate x coefficient); basis = standard",
                            Kind.HIGH: "total_cost > high_k x standard: basis = total_cost",
                            Kind.LOW: "total_cost < low_ratio x standard: basis = total_cost"}[kind]
    return terms
