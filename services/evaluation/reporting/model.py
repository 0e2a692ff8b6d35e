"""What an evaluation report shows: the figures of one run, with the names and context a reader needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..domain.indicators.compute import UnitIndicators
from ..domain.indicators.groups import GroupProfile, Quadrant


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


@dataclass(frozen=True, slots=True)
class HospitalEntry:
    code: str
    name: str
    level: int | None
    figures: UnitIndicators
    quadrant: Quadrant | None
    quality: QualityFigures | None = None
    payment: PaymentFigures | None = None
    review: ReviewFigures | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One month of a unit (``ALL`` for the region) inside the report's period."""

    month: str
    unit: str
    figures: UnitIndicators


@dataclass(frozen=True)
class EvaluationReport:
    region: str
    region_name: str
    period: str
    """The period as text: ``2026-03``, ``2026-H1`` or ``2026``."""
    run: str
    """The evaluation run's resource name."""
    generated_at: datetime
    inputs: tuple[tuple[str, str], ...]
    """What the run read, as (what, version): case feed sequence, weight table, schemes, settlement run."""
    region_figures: UnitIndicators
    hospitals: tuple[HospitalEntry, ...]
    groups: tuple[GroupProfile, ...]
    trends: tuple[TrendPoint, ...]
    region_quality: QualityFigures | None = None
    region_payment: PaymentFigures | None = None
    region_review: ReviewFigures | None = None
    notes: tuple[str, ...] = ()
    """Why a section is missing or partial (e.g. no settlement run of the period yet)."""

    def league(self) -> list[HospitalEntry]:
        """Hospitals by CMI, highest first (those without weighted cases last), then by code."""
        return sorted(self.hospitals, key=lambda h: (h.figures.cmi is None, -(h.figures.cmi or 0), h.code))
