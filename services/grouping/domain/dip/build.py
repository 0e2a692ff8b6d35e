"""Building a catalogue from base-year cases: FORMAT.md, "Building a catalogue".

Cases are added one by one (from a file, or from collection's case feed page by page), then ``catalogue``
applies the threshold. Sums are exact decimals and each mean is rounded half up once, to the fen.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from libs.common.decimals import half_up_div

from .case import CaseType, DipCase, ProcedureClasses, comprehensive_group_id, derive, procedure_set_type
from .catalogue import Catalogue, CatalogueGroup, GroupKind, sorted_catalogue

_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])
"""Sums of money are exact: far more digits than any sum of costs needs, and an error rather than a rounding."""


class BuildError(ValueError):
    """History that cannot make a catalogue (a bad threshold, a cost that is not an amount)."""


@dataclass(slots=True)
class _Tally:
    """The cases of one (key, case type): within a key the type varies only between D and C (empty ``P``)."""

    dx4: str
    procedures: tuple[str, ...]
    cases: int
    cost: Decimal


class CatalogueBuilder:
    """Accumulates base-year cases; ``catalogue(threshold)`` can be asked for at any point (it copies nothing
    back into the tallies, so one builder serves several thresholds)."""

    def __init__(self, classes: ProcedureClasses) -> None:
        self.classes = classes
        self._tallies: dict[tuple[str, str], _Tally] = {}
        """By (key, case type letter): plain strings hash faster than enum members, and this is per case."""
        self.cases = 0
        self.skipped = 0
        """Cases without a principal diagnosis: FORMAT.md skips them."""

    def add(self, case: DipCase, cost: Decimal) -> None:
        """One case with its total cost (yuan, a finite non-negative decimal)."""
        if not cost.is_finite() or cost < 0:
            raise BuildError(f"a total cost must be a finite non-negative amount, not {cost}")
        derived = derive(case, self.classes)
        if derived is None:
            self.skipped += 1
            return
        self.cases += 1
        slot = (derived.key, derived.case_type._value_)  # the plain str: ``.value`` is a slow descriptor
        tally = self._tallies.get(slot)
        if tally is None:
            self._tallies[slot] = _Tally(derived.dx4, derived.procedures, 1, cost)
        else:
            tally.cases += 1
            tally.cost = _EXACT.add(tally.cost, cost)

    def add_all(self, history: Iterable[tuple[DipCase, Decimal]]) -> None:
        for case, cost in history:
            self.add(case, cost)

    def catalogue(self, threshold: int) -> Catalogue:
        if threshold < 1:
            raise BuildError(f"the threshold is a number of cases, at least 1, not {threshold}")
        per_key: dict[str, list[tuple[CaseType, _Tally]]] = {}
        for (key, letter), tally in self._tallies.items():
            per_key.setdefault(key, []).append((CaseType(letter), tally))
        groups: list[CatalogueGroup] = []
        comprehensive: dict[tuple[str, CaseType], _Tally] = {}
        for key, typed in per_key.items():
            cases = sum(tally.cases for _, tally in typed)
            if cases >= threshold:
                dx4, procedures = typed[0][1].dx4, typed[0][1].procedures
                total = _exact_sum(tally.cost for _, tally in typed)
                groups.append(CatalogueGroup(key, GroupKind.CORE, dx4, procedures,
                                             procedure_set_type(procedures, self.classes), cases,
                                             mean_cost(total, cases)))
                continue
            for case_type, tally in typed:
                dx3 = tally.dx4[:3]
                into = comprehensive.get((dx3, case_type))
                if into is None:
                    comprehensive[dx3, case_type] = _Tally(dx3, (), tally.cases, tally.cost)
                else:
                    into.cases += tally.cases
                    into.cost = _EXACT.add(into.cost, tally.cost)
        for (dx3, case_type), tally in comprehensive.items():
            groups.append(CatalogueGroup(comprehensive_group_id(dx3, case_type), GroupKind.COMPREHENSIVE, dx3, (),
                                         case_type, tally.cases, mean_cost(tally.cost, tally.cases)))
        return sorted_catalogue(groups)


def build(history: Iterable[tuple[DipCase, Decimal]], threshold: int, classes: ProcedureClasses) -> Catalogue:
    builder = CatalogueBuilder(classes)
    builder.add_all(history)
    return builder.catalogue(threshold)


def mean_cost(total: Decimal, cases: int) -> Decimal:
    """``total / cases`` computed exactly, rounded half up (away from zero) once, to two decimals."""
    numerator, denominator = total.as_integer_ratio()
    return Decimal(half_up_div(numerator * 100, denominator * cases)).scaleb(-2, _EXACT)


def _exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for amount in amounts:
        total = _EXACT.add(total, amount)
    return total
