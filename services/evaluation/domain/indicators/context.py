"""Figures other services contribute to an evaluation, per hospital (and for the region): data quality from
collection, payment from the period's settlement run, review results from smart review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .rounding import figure, round4_ratio


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """Data quality of a hospital's lists in the period (from collection): lists accepted, how many of them were
    uploaded in time, and (where collection reports them) the upload attempts it received in the period's upload
    window and the QC pass rate of those attempts. Rates have 4 places."""

    lists_accepted: int
    uploaded_in_time: int
    timeliness: Decimal | None
    """``uploaded_in_time / lists_accepted``; ``None`` without lists."""
    lists_received: int | None = None
    """Upload attempts received (stored revisions and uploads rejected at the door); ``None`` when collection does
    not report them."""
    qc_pass_rate: Decimal | None = None
    """Attempts that passed quality control (stored without an ERROR finding) over ``lists_received``; ``None``
    when that is unknown or 0."""

    @classmethod
    def of(cls, accepted: int, in_time: int, received: int | None = None,
           passed: int | None = None) -> QualityFigures:
        return cls(lists_accepted=accepted, uploaded_in_time=in_time,
                   timeliness=figure(round4_ratio(in_time, accepted)) if accepted else None,
                   lists_received=received,
                   qc_pass_rate=figure(round4_ratio(passed, received)) if received and passed is not None else None)


@dataclass(frozen=True, slots=True)
class PaymentFigures:
    """What the period's settlement run says of a hospital: outlier shares (4 places), special cases and the
    surplus (positive) or deficit (negative) in fen; ``None`` where the run's payment method shows none (the point
    method pays points, not a per-case standard to set costs against)."""

    high_outlier_share: Decimal
    low_outlier_share: Decimal
    special_cases: int
    surplus_fen: int | None


@dataclass(frozen=True, slots=True)
class ReviewFigures:
    """Smart-review results of a hospital: flags per 1,000 lists (4 places) and the amount review confirmed."""

    flags_per_thousand: Decimal
    confirmed_fen: int


@dataclass(frozen=True, slots=True)
class SettledCase:
    """How the period's settlement run settled one of the evaluated cases."""

    hospital: str
    kind: str
    """``normal``, ``high``, ``low``, ``by_item`` or ``special`` (FORMAT.md's case kinds)."""
    payment_fen: int | None
    """What the DRG payment for the case is (points x point value, or the rate method's basis); ``None`` for a
    case paid on its cost."""
    cost_fen: int


def payment_figures(cases: Iterable[SettledCase], region: str = "ALL") -> dict[str, PaymentFigures]:
    """Per hospital and for the region: shares of high and low outliers among its settled cases, its special
    cases, and the surplus (payment minus cost over the cases paid by group; cases paid on their cost add 0)."""
    totals: dict[str, list[int]] = {}
    for case in cases:
        surplus = 0 if case.payment_fen is None else case.payment_fen - case.cost_fen
        for key in (region, case.hospital):
            t = totals.setdefault(key, [0, 0, 0, 0, 0])
            t[0] += 1
            t[1] += case.kind == "high"
            t[2] += case.kind == "low"
            t[3] += case.kind == "special"
            t[4] += surplus
    return {key: PaymentFigures(high_outlier_share=figure(round4_ratio(high, n)),
                                low_outlier_share=figure(round4_ratio(low, n)), special_cases=special,
                                surplus_fen=surplus)
            for key, (n, high, low, special, surplus) in totals.items()}


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """What smart review found on a hospital's lists of the period: distinct findings (a rule on a list, however
    many review runs raised it) and the money of the findings a reviewer confirmed."""

    flags: int
    confirmed_fen: int


def review_figures(counts: Mapping[str, ReviewCounts], lists: Mapping[str, int],
                   region: str = "ALL") -> dict[str, ReviewFigures]:
    """Per hospital with evaluated lists, and for the region: findings per 1,000 of its lists (exact, rounded
    half up to 4 places once) and its confirmed amount. A hospital review found nothing on has 0 flags."""
    out: dict[str, ReviewFigures] = {}
    total_flags = total_fen = 0
    for hospital, n in lists.items():
        found = counts.get(hospital, ReviewCounts(0, 0))
        total_flags += found.flags
        total_fen += found.confirmed_fen
        if n > 0:
            out[hospital] = ReviewFigures(figure(round4_ratio(1000 * found.flags, n)), found.confirmed_fen)
    listed = sum(lists.values())
    if listed:
        out[region] = ReviewFigures(figure(round4_ratio(1000 * total_flags, listed)), total_fen)
    return out
