"""Input checks run before grouping, as national groupers do; each failure is a coded status with a message."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.icd10 import sex_conflict

from .case import Case, GroupStatus

NEWBORN_MAX_DAYS = 28



@dataclass(frozen=True, slots=True)
class CodeTables:
    """The 医保版 2.0 code tables a case's codes must come from."""

    diagnoses: frozenset[str]
    procedures: frozenset[str]


def check_case(case: Case, codes: CodeTables) -> tuple[GroupStatus, str] | None:
    """The first failed check as (status, message), or ``None`` when the case may be grouped."""
    if not case.dx or not case.dx[0]:
        return GroupStatus.NO_DIAGNOSIS, "the case has no principal diagnosis"
    if case.sex not in (1, 2):
        return GroupStatus.INVALID_SEX, f"sex must be 1 (male) or 2 (female), got {case.sex!r}"
    if case.age_years is None:
        return GroupStatus.AGE_MISSING, "age_years is missing"
    if case.age_years == 0 and case.age_days is None:
        return GroupStatus.AGE_DAYS_MISSING, "age_years is 0 but age_days is missing"
    newborn = case.age_years == 0 and case.age_days is not None and case.age_days <= NEWBORN_MAX_DAYS
    if newborn and not case.birth_weight_g:
        return GroupStatus.BIRTH_WEIGHT_MISSING, f"a newborn of {case.age_days} days needs birth_weight_g"
    for i, code in enumerate(case.dx):
        if code not in codes.diagnoses:
            return GroupStatus.UNKNOWN_DIAGNOSIS_CODE, f"dx[{i}] {code!r} is not an ICD-10 医保版 2.0 code"
    for i, code in enumerate(case.px):
        if code not in codes.procedures:
            return GroupStatus.UNKNOWN_PROCEDURE_CODE, f"px[{i}] {code!r} is not an ICD-9-CM3 医保版 2.0 code"
    conflict = sex_conflict(case.dx[0], case.sex)
    if conflict:
        return GroupStatus.SEX_DIAGNOSIS_CONFLICT, f"principal diagnosis {conflict}"
    return None


