"""Figures other services contribute to an evaluation, per hospital (and for the region): data quality from
collection, payment from the period's settlement run, review results from smart review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """Data quality of a hospital's uploads (from collection): lists received and accepted by quality control,
    and how many were uploaded in time. Rates have 4 places; ``None`` when nothing was received."""

    lists_received: int
    lists_accepted: int
    qc_pass_rate: Decimal | None
    uploaded_in_time: int
    timeliness: Decimal | None


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
