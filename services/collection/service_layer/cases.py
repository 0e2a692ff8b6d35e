"""Deciding what a list is, given its settlement record (or none yet): quality control and grouping, in batches.

One place decides for the three ways a list meets its record: an upload (the record may already be there), a
bulk import, and the joiner (the record arrived, was revised or reversed after the list). A list with its
record (or a rich list complete in itself) is checked and grouped: ACTIVE, or REJECTED by its errors. A list
without either passes its own rules and waits: PENDING. Codes are validated in one coding call per batch and
cases grouped in one grouping call per scheme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import chain
from operator import attrgetter

from ..adapters.clients import CodingClient, GroupingClient
from ..adapters.records import StoredRecord
from ..domain.join import join
from ..domain.model import Finding, GroupRow, ListStatus, ParsedList, Severity
from ..domain.qc import run_qc
from ..domain.schemes import SchemeSchedule


@dataclass(frozen=True)
class Verdict:
    """ACTIVE (grouped), PENDING (waiting for its record) or REJECTED (``findings`` hold its errors)."""

    status: ListStatus
    case: ParsedList  # joined with its record where it has one
    findings: tuple[Finding, ...]  # every finding; ``errors`` are those that rejected it
    group: GroupRow | None
    hospital_level: int
    record_revision: int | None  # the record revision seen (joined, or reversed): None without a record

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


class CaseChecker:
    def __init__(self, coding: CodingClient, grouping: GroupingClient, schedule: SchemeSchedule) -> None:
        self._coding = coding
        self._grouping = grouping
        self._schedule = schedule

    @property
    def schedule(self) -> SchemeSchedule:
        """Which scheme groups which region's cases from which day (a bulk import's workers group by it too)."""
        return self._schedule

    async def check(self, items: Sequence[tuple[ParsedList, StoredRecord | None]]) -> list[Verdict]:
        """A verdict per (list, its stored record or None), in order."""
        cases: list[tuple[ParsedList, list[Finding], int | None]] = []
        for parsed, stored in items:
            if stored is not None and stored.status == "ACTIVE":
                case, cross = join(parsed, stored.record, stored.revision)
                cases.append((case, cross, stored.revision))
            elif stored is not None:  # the settlement was reversed: the stay waits for a new one
                cases.append((_without_money(parsed), [], stored.revision))
            else:
                cases.append((parsed, [], None))
        verdicts = await self._coding.verdicts(set(map(_CODE, chain.from_iterable(c.coded for c, _, _ in cases))))
        levels = await self._coding.hospital_levels({c.fixmedins_code for c, _, _ in cases})
        findings: list[list[Finding]] = []
        rejected: list[bool] = []  # whether a case's findings hold an error
        grouped: list[int] = []
        for i, (case, cross, _) in enumerate(cases):
            found = run_qc(case, verdicts) + cross
            error = bool(found) and Severity.ERROR in map(_SEVERITY, found)
            findings.append(found)
            rejected.append(error)
            if not error and case.is_case:
                grouped.append(i)
        groups = await self.group([cases[i][0] for i in grouped])
        group_of = dict(zip(grouped, groups, strict=True))
        out = []
        for i, (case, _, seen) in enumerate(cases):
            group = group_of.get(i)
            status = (ListStatus.ACTIVE if group is not None else ListStatus.REJECTED if rejected[i]
                      else ListStatus.PENDING)
            out.append(Verdict(status, case, tuple(findings[i]), group, levels[case.fixmedins_code], seen))
        return out

    async def group(self, cases: Sequence[ParsedList]) -> list[GroupRow]:
        """Each case grouped under the scheme scheduled for its region and settlement date (one call per
        scheme)."""
        by_scheme: dict[str, list[int]] = {}
        scheme_of: dict[tuple[str, date | None], str] = {}  # a chunk's cases share a few regions and days
        for i, case in enumerate(cases):
            scheme = scheme_of.get((case.region, case.discharge_date))
            if scheme is None:
                scheme = scheme_of[case.region, case.discharge_date] = self.scheme_for(case)
            by_scheme.setdefault(scheme, []).append(i)
        out: list[GroupRow | None] = [None] * len(cases)
        for scheme, positions in by_scheme.items():
            for i, group in zip(positions, await self._grouping.group(scheme, [cases[i].facts for i in positions]),
                                strict=True):
                out[i] = group
        return [g for g in out if g is not None]

    def scheme_for(self, case: ParsedList) -> str:
        return self._schedule.scheme_for(case.region, case.discharge_date)


_CODE = attrgetter("system_id", "code")
_SEVERITY = attrgetter("severity")


def _without_money(parsed: ParsedList) -> ParsedList:
    """A list whose settlement was reversed: its own money no longer stands (it waits for a new settlement)."""
    return replace(parsed, money=None)
