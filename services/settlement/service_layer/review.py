"""What settlement runs need of smart review: the amounts its workflow confirmed per hospital for a year
(``adapters/review_deductions.py`` reads them from ``medpay.review.v1`` in the evaluation process).

Settlement does not import evaluation's code (evaluation calls settlement for its indicators): the proto contract
is the only thing the two share.

- A year-end **clearing** pins what review confirmed for its year in its parameters when it starts (part of its
  run key and input digest), so the run computes, stores and reproduces the same statements however the flags
  change afterwards.
- Flags of a year confirmed **after** its clearing are **carried** into the next runs, the way list revisions of
  an advanced month come as adjustments of the next month: every run (advance or clearing) of a later year pins
  what review confirms now for each earlier year whose clearing read review (``CONFIRMED``), and its job, under the
  region's carry lock, deducts the part no run has deducted yet: the year's confirmed amount minus the clearing's
  and every later run's carried amounts (``CARRIED``). The cleared run is never edited, and an amount is deducted
  once: a replay is the same run (the pinned amounts are in its key), and the next run finds the carry deducted.
  Confirmed flags are final, so a year's confirmed amount only grows; a difference below zero is a stale reading
  (a run that started before another carried more) and carries nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from libs.common.money import Money, fen_text

PARAMETER = "review_deductions"
"""The clearing's parameter (and run total) holding the deductions pinned for its own year: ``{institution: yuan}``."""
CONFIRMED = "review_confirmed_after_clearing"
"""A run's parameter: ``{year: {institution: yuan}}``, review's confirmed amounts of earlier cleared years as read
when the run started."""
CARRIED = "review_carried"
"""A run's total: ``{year: {institution: yuan}}``, what it deducted of earlier cleared years' confirmed amounts."""

Amounts = dict[str, dict[str, int]]
"""year -> institution -> fen."""


class ReviewDeductions(Protocol):
    async def confirmed(self, region: str, year: int) -> dict[str, int]:
        """institution -> fen of its confirmed flags on lists of the region's settlement months of ``year``."""
        ...


def pinned_text(deductions: Mapping[str, int]) -> dict[str, str]:
    """The deductions as a run parameter: institutions in order, amounts as yuan text, zeros left out."""
    return {code: fen_text(fen) for code, fen in sorted(deductions.items()) if fen}


def pinned_fen(parameters: Mapping[str, Any]) -> dict[str, int]:
    """The deductions a clearing pinned for its own year (none for runs that did not read review)."""
    return _fen(parameters.get(PARAMETER))


def _fen(raw: Any) -> dict[str, int]:
    return {code: Money.parse(str(yuan)).fen for code, yuan in dict(raw or {}).items()}


def by_year_text(amounts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, str]]:
    """``{year: {institution: yuan}}`` for a parameter or total, years and institutions in order, zeros left out."""
    out = {year: pinned_text(amounts[year]) for year in sorted(amounts)}
    return {year: by_code for year, by_code in out.items() if by_code}


def by_year_fen(raw: Any) -> Amounts:
    return {str(year): _fen(by_code) for year, by_code in dict(raw or {}).items()}


def carried_fen(totals: Mapping[str, Any]) -> Amounts:
    """What a run deducted of earlier cleared years (none for runs that carried nothing)."""
    return by_year_fen(totals.get(CARRIED))


def review_fen(totals: Mapping[str, Any]) -> dict[str, int]:
    """institution -> all a run deducted because review confirmed it: its own year's (a clearing) and carried."""
    out = defaultdict(int, pinned_fen(totals))
    for by_code in carried_fen(totals).values():
        for code, fen in by_code.items():
            out[code] += fen
    return dict(out)


def deducted(runs: Iterable[tuple[str, bool, Mapping[str, Any]]]) -> Amounts:
    """year -> institution -> fen deducted so far, from finished runs as (period, is clearing, totals): each
    clearing's own year's pinned amounts plus every run's carried ones."""
    out: Amounts = {}

    def add(year: str, by_code: Mapping[str, int]) -> None:
        into = out.setdefault(year, {})
        for code, fen in by_code.items():
            into[code] = into.get(code, 0) + fen

    for period, clearing, totals in runs:
        if clearing:
            add(period, pinned_fen(totals))
        for year, by_code in carried_fen(totals).items():
            add(year, by_code)
    return out


def to_carry(confirmed: Mapping[str, Mapping[str, int]], done: Mapping[str, Mapping[str, int]]) -> Amounts:
    """year -> institution -> fen confirmed and not deducted yet (positive differences only, see the module)."""
    out: Amounts = {}
    for year, by_code in sorted(confirmed.items()):
        rest = {code: fen - done.get(year, {}).get(code, 0) for code, fen in sorted(by_code.items())}
        rest = {code: fen for code, fen in rest.items() if fen > 0}
        if rest:
            out[year] = rest
    return out
