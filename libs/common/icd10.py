"""ICD-10 knowledge more than one service applies: diagnoses only one sex can have.

Grouping's input checks and collection's quality control must agree on it, so it lives here once.
"""

from __future__ import annotations

from functools import lru_cache

# Three-character categories of one sex only: pregnancy (O), female and male genital organs and their tumours,
# supervision of pregnancy (Z32-Z37).
FEMALE_ONLY = (("O00", "O99"), ("C51", "C58"), ("D25", "D28"), ("N70", "N98"), ("Z32", "Z37"))
MALE_ONLY = (("C60", "C63"), ("D29", "D29"), ("N40", "N51"))


def sex_specific(code: str) -> int | None:
    """1 when only men can have the diagnosis, 2 when only women can, else None."""
    return _sex_of_category(code[:3].upper())


@lru_cache(maxsize=4096)
def _sex_of_category(category: str) -> int | None:
    """Answered once per three-character category: a bulk import asks twice per list (bounded, since the codes
    come from uploads)."""
    if any(low <= category <= high for low, high in FEMALE_ONLY):
        return 2
    if any(low <= category <= high for low, high in MALE_ONLY):
        return 1
    return None


def sex_conflict(code: str, sex: int | None) -> str:
    """Why a diagnosis cannot belong to a patient of this sex (1 male, 2 female), or "" when it can."""
    only = sex_specific(code)
    if only is None or sex not in (1, 2) or only == sex:
        return ""
    who, patient = ("women", "male") if only == 2 else ("men", "female")
    return f"{code} applies to {who} only, the patient is {patient}"
