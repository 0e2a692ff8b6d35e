"""A DIP case and the values derived from it (FORMAT.md, "Case input" and "Derived values").

Codes are taken as written after trimming spaces; empty strings are dropped; no code mapping is applied.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

DIAGNOSTIC_PREFIXES = ("87.", "88.", "89.", "90.", "91.")
"""ICD-9-CM3 chapters 87-91 (diagnostic radiology, other diagnostic procedures, interviews and evaluations,
laboratory examinations): a procedure starting with one of these is diagnostic, even where the surgery list
names it."""


class ProcedureClass(enum.Enum):
    DIAGNOSTIC = "diagnostic"
    SURGERY = "surgery"
    THERAPEUTIC = "therapeutic"


class CaseType(enum.Enum):
    """The case type letters of comprehensive groups, in the order they are tested."""

    SURGERY = "S"
    THERAPEUTIC = "T"
    DIAGNOSTIC = "D"
    CONSERVATIVE = "C"  # 保守治疗: no procedure at all


@dataclass(frozen=True, slots=True)
class ProcedureClasses:
    """What makes a procedure surgery: the first column of ``chs-drg-1.1/or_procedures.tsv`` (read by an
    adapter). ``digest`` identifies the list, so a catalogue version names the list its types came from."""

    surgery: frozenset[str]
    digest: str = ""

    def classify(self, code: str) -> ProcedureClass:
        if code.startswith(DIAGNOSTIC_PREFIXES):
            return ProcedureClass.DIAGNOSTIC
        if code in self.surgery:
            return ProcedureClass.SURGERY
        return ProcedureClass.THERAPEUTIC


@dataclass(frozen=True, slots=True)
class DipCase:
    """One case as given: ``dx`` principal first, ``px`` principal first (raw: untrimmed, empties allowed)."""

    dx: tuple[str, ...]
    px: tuple[str, ...] = ()


class CaseKey(NamedTuple):
    """What DIP sees of a case with a principal diagnosis (immutable: a named tuple, which is built several times
    faster than a frozen dataclass, and one is built per case when building and when grouping).

    ``procedures`` is ``P``: the non-diagnostic procedures, without duplicates, in byte order (Python orders
    ``str`` by code point, which is the byte order of their UTF-8 form). ``key`` is ``dx4 + "|" + "+".join(P)``.
    """

    dx4: str
    procedures: tuple[str, ...]
    case_type: CaseType
    key: str

    @property
    def dx3(self) -> str:
        return self.dx4[:3]

    @property
    def comprehensive_group(self) -> str:
        return comprehensive_group_id(self.dx3, self.case_type)


def principal_diagnosis(dx: Iterable[str]) -> str | None:
    """The first diagnosis that is not empty after trimming; ``None`` when there is none."""
    for written in dx:
        code = written.strip()
        if code:
            return code
    return None


def derive(case: DipCase, classes: ProcedureClasses) -> CaseKey | None:
    """The key, procedure set and type of ``case``; ``None`` when it has no principal diagnosis.

    Written for speed (it runs once per case when building and when grouping): locals, no helper calls on the
    common path.
    """
    dx = case.dx
    principal = dx[0].strip() if dx else ""
    if not principal:
        found = principal_diagnosis(dx)
        if found is None:
            return None
        principal = found
    surgery = classes.surgery
    kept: set[str] = set()
    has_surgery = has_diagnostic = False
    for raw in case.px:
        code = raw.strip()
        if not code:
            continue
        if code.startswith(DIAGNOSTIC_PREFIXES):
            has_diagnostic = True
            continue
        kept.add(code)
        if code in surgery:
            has_surgery = True
    dx4 = principal[:5]
    if not kept:
        return CaseKey(dx4, (), _DIAGNOSTIC if has_diagnostic else _CONSERVATIVE, dx4 + "|")
    procedures = tuple(sorted(kept))
    return CaseKey(dx4, procedures, _SURGERY if has_surgery else _THERAPEUTIC, dx4 + "|" + "+".join(procedures))


_SURGERY, _THERAPEUTIC, _DIAGNOSTIC, _CONSERVATIVE = CaseType


def core_group_id(dx4: str, procedures: Iterable[str]) -> str:
    return dx4 + "|" + "+".join(procedures)


def comprehensive_group_id(dx3: str, case_type: CaseType) -> str:
    return dx3 + "/" + case_type.value


def procedure_set_type(procedures: Iterable[str], classes: ProcedureClasses) -> CaseType:
    """The type a core group's procedure set implies: ``S`` with a surgery, ``T`` when not empty, else ``C``
    (diagnostic procedures are never in ``P``, so a core group without procedures is ``C``)."""
    listed = tuple(procedures)
    if any(classes.classify(code) is ProcedureClass.SURGERY for code in listed):
        return CaseType.SURGERY
    return CaseType.THERAPEUTIC if listed else CaseType.CONSERVATIVE
