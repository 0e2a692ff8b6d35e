"""An evaluation's result, with what other services contribute, as the rows a run stores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ...adapters.indicators.repository import WHOLE_PERIOD, StoredUnit
from ...domain.indicators.compute import Level
from ...domain.indicators.context import PaymentFigures, QualityFigures, ReviewFigures
from ...domain.indicators.evaluation import EvaluationResult, UnitResult

REGION = "ALL"


@dataclass(frozen=True)
class Institution:
    name: str
    level: int | None


@dataclass(frozen=True)
class Contributions:
    """Per hospital code (and ``ALL`` for the region), what collection, settlement and review say."""

    quality: Mapping[str, QualityFigures]
    payment: Mapping[str, PaymentFigures]
    review: Mapping[str, ReviewFigures]

    @classmethod
    def none(cls) -> Contributions:
        return cls({}, {}, {})


def stored_units(result: EvaluationResult, institutions: Mapping[str, Institution],
                 contributions: Contributions) -> Iterator[StoredUnit]:
    """The whole period's units (all levels), then each month's (region and hospitals)."""
    for unit in result.units:
        yield _stored(WHOLE_PERIOD, unit, institutions, contributions)
    for month, units in result.months:
        for unit in units:
            yield _stored(month, unit, institutions, None)


def _stored(month: str, unit: UnitResult, institutions: Mapping[str, Institution],
            contributions: Contributions | None) -> StoredUnit:
    level = unit.figures.level
    key = REGION if level is Level.REGION else unit.figures.unit if level is Level.HOSPITAL else None
    institution = institutions.get(unit.figures.unit) if level is Level.HOSPITAL else None
    extras = contributions if contributions is not None and key is not None else Contributions.none()
    lookup = key or ""
    return StoredUnit(month=month, figures=unit.figures, hospital=unit.hospital, quadrant=unit.quadrant,
                      name=institution.name if institution else "",
                      hospital_level=institution.level if institution else None,
                      quality=extras.quality.get(lookup), payment=extras.payment.get(lookup),
                      review=extras.review.get(lookup))
