"""Figures other services contribute to an evaluation, per hospital (and for the region): data quality from
collection, payment from the period's settlement run, review results from smart review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .rounding import figure, round4_ratio


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """Data quality of a hospital's lists in the period (from collection): lists accepted, how many of them were
    uploaded in time, and (where collection reports rejections) upload attempts received. Rates have 4 places."""

    lists_accepted: int
    uploaded_in_time: int
    timeliness: Decimal | None
    """``uploaded_in_time / lists_accepted``; ``None`` without lists."""
    lists_received: int | None = None
    """Accepted and rejected upload attempts; ``None`` when collection does not report rejections."""
    qc_pass_rate: Decimal | None = None
    """``lists_accepted / lists_received``; ``None`` when that is unknown or 0."""

    @classmethod
    def of(cls, accepted: int, in_time: int, received: int | None = None) -> QualityFigures:
        return cls(lists_accepted=accepted, uploaded_in_time=in_time,
                   timeliness=figure(round4_ratio(in_time, accepted)) if accepted else None,
                   lists_received=received,
                   qc_pass_rate=figure(round4_ratio(accepted, received)) if received else None)


@dataclass(frozen=True, slots=True)
class PaymentFigures:
    """What the period's settlement run says of a hospital: outlier shares (4 places), special cases and the
    surplus (positive) or deficit (negative) in fen."""

    high_outlier_share: Decimal
    low_outlier_share: Decimal
    special_cases: int
    surplus_fen: int


@dataclass(frozen=True, slots=True)
class ReviewFigures:
    """Smart-review results of a hospital: flags per 1,000 lists (4 places) and the amount review confirmed."""

    flags_per_thousand: Decimal
    confirmed_fen: int
