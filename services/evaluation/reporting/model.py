"""What an evaluation report shows: the figures of one run, with the names and context a reader needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.indicators.compute import UnitIndicators
from ..domain.indicators.context import PaymentFigures, QualityFigures, ReviewFigures
from ..domain.indicators.groups import GroupProfile, Quadrant


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


__all__ = ["EvaluationReport", "HospitalEntry", "PaymentFigures", "QualityFigures", "ReviewFigures", "TrendPoint"]
