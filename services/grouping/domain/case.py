"""The values that go into and come out of the grouper."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

UNGROUPABLE_DRG = "0000"


@dataclass(frozen=True, slots=True)
class Case:
    """One inpatient case, in the field names of the scheme-pack format (FORMAT.md, "The case").

    ``dx`` and ``px`` are ordered: the principal diagnosis and the principal procedure come first.
    Missing numeric values are ``None``; a birth weight of 0 means unknown.
    """

    dx: tuple[str, ...]
    px: tuple[str, ...] = ()
    sex: int | None = None
    age_years: int | None = None
    age_days: int | None = None
    birth_weight_g: int | None = None
    los_days: int | None = None
    discharge_type: str | None = None
    dept: str = ""


class GroupStatus(enum.Enum):
    """Outcome of grouping one case. Values are stable: they are stored and sent on the wire."""

    GROUPED = "GROUPED"
    UNGROUPABLE = "UNGROUPABLE"
    NO_DIAGNOSIS = "NO_DIAGNOSIS"
    INVALID_SEX = "INVALID_SEX"
    AGE_MISSING = "AGE_MISSING"
    AGE_DAYS_MISSING = "AGE_DAYS_MISSING"
    BIRTH_WEIGHT_MISSING = "BIRTH_WEIGHT_MISSING"
    UNKNOWN_DIAGNOSIS_CODE = "UNKNOWN_DIAGNOSIS_CODE"
    UNKNOWN_PROCEDURE_CODE = "UNKNOWN_PROCEDURE_CODE"
    SEX_DIAGNOSIS_CONFLICT = "SEX_DIAGNOSIS_CONFLICT"
    INVALID_INPUT = "INVALID_INPUT"


@dataclass(frozen=True, slots=True)
class GroupResult:
    """The group of a case, traceable to the scheme version that decided it.

    ``step`` is the ADRG rule-step id (``AH1_2``) when it differs from the reported ``adrg``; ``message``
    explains a check failure. ``trace`` is filled only when an explanation was asked for.
    """

    scheme_id: str
    scheme_version: str
    status: GroupStatus
    drg: str = UNGROUPABLE_DRG
    adrg: str = ""
    mdc: str = ""
    step: str = ""
    message: str = ""
    trace: tuple[str, ...] = field(default=())
