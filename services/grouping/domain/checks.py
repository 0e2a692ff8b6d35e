"""Input checks run before grouping, as national groupers do; each failure is a coded status with a message."""

from __future__ import annotations

from dataclasses import dataclass

from .case import Case, GroupStatus

NEWBORN_MAX_DAYS = 28

# ICD-10 three-character categories that only one sex can have (chapters O and the genital organs).
_FEMALE_ONLY = (("O00", "O99"), ("C51", "C58"), ("D25", "D28"), ("N70", "N98"), ("Z32", "Z37"))
_MALE_ONLY = (("C60", "C63"), ("D29", "D29"), ("N40", "N51"))


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
        return GroupStatus.SEX_DIAGNOSIS_CONFLICT, conflict
    return None


def sex_conflict(code: str, sex: int) -> str:
    """Why a diagnosis cannot belong to a patient of this sex, or "" when it can."""
    category = code[:3].upper()
    if sex == 1 and _in_ranges(category, _FEMALE_ONLY):
        return f"principal diagnosis {code} applies to women only, the patient is male"
    if sex == 2 and _in_ranges(category, _MALE_ONLY):
        return f"principal diagnosis {code} applies to men only, the patient is female"
    return ""


def _in_ranges(category: str, ranges: tuple[tuple[str, str], ...]) -> bool:
    return any(low <= category <= high for low, high in ranges)
