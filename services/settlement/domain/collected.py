"""Collected cases as a settlement run reads them from the case feed, and the calculation's table of them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from .cases import CaseTable, CaseTableBuilder, month_key
from .errors import CalculationError
from .policies import GroupScheme

UNGROUPED = "0000"
"""The group of a case with no group under the policy's scheme: paid by item, like an ungroupable case."""


@dataclass(frozen=True, slots=True)
class CollectedCase:
    """One list's current revision as of the run's feed sequence."""

    list_id: str
    revision: int
    active: bool
    """False for a revoked list, or one whose revision waits for or failed against its settlement record."""
    hospital: str
    hospital_level: int
    """1-3; 0 when the institution is not registered."""
    month: str
    """Settlement month, ``2026-03``."""
    psn_no: str
    admission: date
    discharge: date
    groups: tuple[tuple[GroupScheme, str, str], ...]
    """(DRG or DIP, scheme id, group code), most recently grouped first."""
    total_fen: int
    fund_fen: int
    personal_fen: int

    def group(self, scheme: GroupScheme) -> str:
        """The case's group under the policy's scheme (its most recent grouping of that kind)."""
        for kind, _, code in self.groups:
            if kind is scheme:
                return code
        return UNGROUPED


def with_levels(cases: Sequence[CollectedCase], levels: Mapping[str, int]) -> list[CollectedCase]:
    """The cases with the policy's level for those the feed gives none (level 0); the feed's level wins."""
    if not levels:
        return list(cases)
    return [replace(c, hospital_level=levels.get(c.hospital, 0)) if c.hospital_level == 0 else c for c in cases]


def case_table(cases: Sequence[CollectedCase], scheme: GroupScheme, source: str = "case feed") -> CaseTable:
    """The calculation's columns of ``cases`` (active ones only are given), in the order given."""
    builder = CaseTableBuilder(source)
    for line, case in enumerate(cases, start=1):
        if case.hospital_level not in (1, 2, 3):
            raise CalculationError(f"hospital {case.hospital}", "has no hospital level (the case feed says 0): "
                                   "register the institution with its level in the coding service or give it in "
                                   "the policy's hospital_levels")
        year, month = (int(part) for part in case.month.split("-"))
        builder.add(line, case_id=case.list_id, hospital=case.hospital, level=case.hospital_level,
                    psn_no=case.psn_no, group=case.group(scheme), adm_day=case.admission.toordinal(),
                    dscg_day=case.discharge.toordinal(), dscg_month=month_key(year, month),
                    total_cost=case.total_fen, fund_paid=case.fund_fen, personal_paid=case.personal_fen)
    return builder.build()


def cases_digest(cases: Iterable[CollectedCase], scheme: GroupScheme) -> str:
    """Which cases a figure was computed from (order-free): each list's revision and what its payment depends on
    besides, its money and its group under the policy's scheme. A change of it is a revised or revoked list, or a
    stay whose settlement record the core system revised after the month was paid (the list's revision stays,
    its money or, through the record's person, its group changes)."""
    text = "\n".join(sorted(f"{c.list_id}:{c.revision}:{c.total_fen}:{c.fund_fen}:{c.personal_fen}:{c.group(scheme)}"
                             for c in cases))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


EMPTY_DIGEST = cases_digest((), GroupScheme.DRG)  # the same under either scheme
