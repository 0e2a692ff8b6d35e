"""Structural validators: is a string of the shape of its code family? (PRIMER section 2)

Each returns "" when the shape is right, else the reason in words. Division existence is checked by the
caller-supplied set, so these stay pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from .systems import DIVISION, ICD9CM3, ICD10

Shape = Callable[[str, Collection[str]], str]

_ICD10 = re.compile(r"[A-Z]\d{2}(?:\.[0-9x]{1,3})?(?:x\d{3})?(?:\+[A-Z]\d{2}(?:\.[0-9x]{1,3})?\*|\*)?")
_ICD9 = re.compile(r"\d{2}(?:\.[0-9A-Zx]{1,5})?(?:x\d{3,4})?")
_DRUG = re.compile(r"[XZ][A-Z0-9]{5}[A-Z0-9]{4}[A-Z0-9]{4}\d{2}\d{2}\d{5}")
_CONSUMABLE = re.compile(r"C[0-9A-Z]{19}(?:-?\d{7})?")
_SERVICE_ITEM = re.compile(r"\d{15}")
_OPSP = re.compile(r"M\d{5}")
_DIVISION = re.compile(r"\d{6}")
_GENERIC = re.compile(r"[0-9A-Za-z.+*x-]{1,30}")


def _regex(pattern: re.Pattern[str], expected: str) -> Shape:
    def check(code: str, divisions: Collection[str]) -> str:
        return "" if pattern.fullmatch(code) else f"expected {expected}, got {code!r}"

    return check


def _registered(letter: str, serial_digits: int, what: str) -> Shape:
    pattern = re.compile(rf"{letter}(\d{{6}})\d{{{serial_digits}}}")
    expected = f"{letter} + 6-digit division + {serial_digits}-digit serial ({7 + serial_digits} characters)"

    def check(code: str, divisions: Collection[str]) -> str:
        match = pattern.fullmatch(code)
        if match is None:
            return f"{what} code: expected {expected}, got {code!r} ({len(code)} characters)"
        if divisions and match.group(1) not in divisions:
            return f"{what} code: division {match.group(1)} does not exist in GB/T 2260"
        return ""

    return check


def _division(code: str, divisions: Collection[str]) -> str:
    if not _DIVISION.fullmatch(code):
        return f"expected a 6-digit division code, got {code!r}"
    return ""


SHAPES: dict[str, Shape] = {
    ICD10: _regex(_ICD10, "an ICD-10 医保版 code like I21.000x005 or A01.001+K77.0*"),
    ICD9CM3: _regex(_ICD9, "an ICD-9-CM3 医保版 code like 36.0600 or 00.5500x008"),
    "service-item": _regex(_SERVICE_ITEM, "15 digits"),
    "drug": _regex(_DRUG, "23 characters: X or Z, 5 class, 4 name, 4 dosage form, 2+2 digits, 5-digit enterprise"),
    "consumable": _regex(_CONSUMABLE, "C + 19 characters, optionally a 7-digit model serial"),
    "institution": _registered("H", 5, "institution"),
    "pharmacy": _registered("P", 5, "pharmacy"),
    "doctor": _registered("D", 6, "doctor"),
    "nurse": _registered("N", 6, "nurse"),
    "pharmacist": _registered("Y", 6, "pharmacist"),
    "opsp-disease": _regex(_OPSP, "M + 5 digits"),
    "per-disease": _regex(_GENERIC, "1-30 letters, digits or . + * x -"),
    "day-surgery": _regex(_GENERIC, "1-30 letters, digits or . + * x -"),
    "insurance-unit": _regex(_GENERIC, "1-30 letters, digits or . + * x -"),
    "insurance-staff": _regex(_GENERIC, "1-30 letters, digits or . + * x -"),
    DIVISION: _division,
}

# Families recognisable from shape alone, most specific first: (system, pattern of the whole family).
_INFERENCE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("institution", re.compile(r"H\d{11}")), ("pharmacy", re.compile(r"P\d{11}")),
    ("doctor", re.compile(r"D\d{12}")), ("nurse", re.compile(r"N\d{12}")), ("pharmacist", re.compile(r"Y\d{12}")),
    ("opsp-disease", _OPSP), ("drug", _DRUG), ("consumable", _CONSUMABLE), ("service-item", _SERVICE_ITEM),
    (DIVISION, _DIVISION), (ICD10, _ICD10), (ICD9CM3, _ICD9),
)


def infer_system(code: str) -> str | None:
    """The family whose shape the code has, or ``None`` when it has the shape of none."""
    for system_id, pattern in _INFERENCE:
        if pattern.fullmatch(code):
            return system_id
    return None


def shape_problem(system_id: str, code: str, divisions: Collection[str]) -> str:
    check = SHAPES.get(system_id)
    if check is None:  # the maps: any non-empty code can be looked up
        return "" if code else "empty code"
    return check(code, divisions)
