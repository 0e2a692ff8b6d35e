"""One evaluation of a region and period: the indicators of every unit over the whole period, the region's and
hospitals' figures month by month (each month evaluated on its own), and the group profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .compute import Level, UnitIndicators, compute_indicators
from .groups import GroupProfile, Quadrant, group_profiles, quadrant
from .table import CaseTable

TREND_LEVELS = (Level.REGION, Level.HOSPITAL)
"""The levels kept month by month (departments and doctors only over the whole period)."""


@dataclass(frozen=True, slots=True)
class UnitResult:
    figures: UnitIndicators
    hospital: str | None
    """The hospital a unit belongs to (a hospital itself, a department's hospital, a doctor's when all the
    doctor's cases are at one hospital); ``None`` for the region and for doctors working at several: what a
    hospital may see of the results is decided by it."""
    quadrant: Quadrant | None


@dataclass(frozen=True)
class EvaluationResult:
    units: tuple[UnitResult, ...]
    months: tuple[tuple[str, tuple[UnitResult, ...]], ...]
    """Per month (text ``yyyy-MM``, in order), the region and hospital units of that month's cases."""
    groups: tuple[GroupProfile, ...]

    @property
    def region(self) -> UnitIndicators:
        return self.units[0].figures


def evaluate(table: CaseTable, case_months: Sequence[str], weights: Mapping[str, int]) -> EvaluationResult:
    """``case_months[i]`` is case i's settlement month; ``weights`` as for ``compute_indicators``."""
    if len(case_months) != len(table):
        raise ValueError("one month per case")
    units = _units(table, weights, all_levels=True)
    months = np.array(case_months)
    per_month = tuple((month, _units(table.subset(months == month), weights, all_levels=False))
                      for month in sorted(set(case_months)))
    return EvaluationResult(units=units, months=per_month, groups=group_profiles(table, weights))


def _units(table: CaseTable, weights: Mapping[str, int], *, all_levels: bool) -> tuple[UnitResult, ...]:
    rows = compute_indicators(table, weights).rows
    region = rows[0]
    doctors = _doctor_hospitals(table)
    return tuple(UnitResult(figures=row, hospital=_hospital_of(row, doctors), quadrant=quadrant(row, region))
                 for row in rows if all_levels or row.level in TREND_LEVELS)


def _hospital_of(row: UnitIndicators, doctors: Mapping[str, str | None]) -> str | None:
    if row.level is Level.HOSPITAL:
        return row.unit
    if row.level is Level.DEPT:
        return row.unit.split("/", 1)[0]
    if row.level is Level.DOCTOR:
        return doctors.get(row.unit)
    return None


def _doctor_hospitals(table: CaseTable) -> dict[str, str | None]:
    """Each doctor's hospital when all the doctor's cases are at one, else ``None``."""
    pairs = np.unique(table.doctor * len(table.hospital_labels) + table.hospital)
    doctor, hospital = np.divmod(pairs, len(table.hospital_labels))
    found: dict[str, str | None] = {}
    for d, h in zip(doctor.tolist(), hospital.tolist(), strict=True):
        name = table.doctor_labels[d]
        found[name] = table.hospital_labels[h] if name not in found else None
    return found
