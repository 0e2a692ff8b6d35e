"""Grouping a case against a compiled catalogue: FORMAT.md, "Grouping a case".

``DipGrouper`` compiles a ``Catalogue`` once: core groups by key (step 2) and, per ``dx4``, the core groups
with procedures ordered by size descending then id in byte order (step 3), so a partial match looks only at
the groups of its own diagnosis and stops at the first subset found. ``group`` never raises on case content.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .case import DipCase, ProcedureClasses, derive
from .catalogue import Catalogue, CatalogueGroup, GroupKind

UNGROUPABLE_GROUP = "0000"


class DipKind(enum.Enum):
    """How a case found its group. Values are stable: they are written to files, stored and sent on the wire."""

    CORE = "core"  # its key is a core group
    CORE_PARTIAL = "core_partial"  # the core group of its dx4 with the largest procedure subset of P
    COMPREHENSIVE = "comprehensive"  # dx3/type, listed in the catalogue or not
    UNGROUPABLE = "ungroupable"  # no principal diagnosis


@dataclass(frozen=True, slots=True)
class DipResult:
    """The DIP group of a case, traceable to the catalogue version that decided it. ``procedures`` are the
    matched group's procedures (core and partial matches), else empty."""

    catalogue_id: str
    catalogue_version: str
    group: str
    kind: DipKind
    procedures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Partial:
    size: int
    procedures: frozenset[str]
    group: CatalogueGroup


class DipGrouper:
    """A catalogue compiled for grouping, with the surgery list that types the cases, under an id and a version
    (the version carries a digest of the catalogue and the list: see ``adapters.dip_files``)."""

    def __init__(self, catalogue_id: str, version: str, catalogue: Catalogue, classes: ProcedureClasses) -> None:
        self.catalogue_id = catalogue_id
        self.version = version
        self.catalogue = catalogue
        self.classes = classes
        self.groups: Mapping[str, CatalogueGroup] = {g.group_id: g for g in catalogue}
        self._core: dict[str, CatalogueGroup] = {g.group_id: g for g in catalogue if g.kind is GroupKind.CORE}
        by_dx4: dict[str, list[_Partial]] = {}
        for g in self._core.values():
            if g.procedures:
                by_dx4.setdefault(g.dx, []).append(_Partial(len(g.procedures), frozenset(g.procedures), g))
        self._partials = {dx4: tuple(sorted(found, key=lambda p: (-p.size, p.group.group_id)))
                          for dx4, found in by_dx4.items()}

    def group(self, case: DipCase) -> DipResult:
        derived = derive(case, self.classes)
        if derived is None:
            return DipResult(self.catalogue_id, self.version, UNGROUPABLE_GROUP, DipKind.UNGROUPABLE)
        core = self._core.get(derived.key)
        if core is not None:
            return DipResult(self.catalogue_id, self.version, core.group_id, DipKind.CORE, core.procedures)
        procedures = derived.procedures
        if procedures:
            candidates = self._partials.get(derived.dx4)
            if candidates:
                size = len(procedures)
                have = frozenset(procedures)
                for partial in candidates:
                    if partial.size <= size and partial.procedures <= have:
                        found = partial.group
                        return DipResult(self.catalogue_id, self.version, found.group_id, DipKind.CORE_PARTIAL,
                                         found.procedures)
        return DipResult(self.catalogue_id, self.version, derived.comprehensive_group, DipKind.COMPREHENSIVE)

    def group_all(self, cases: Iterable[DipCase]) -> list[DipResult]:
        return [self.group(case) for case in cases]

    def explain(self, case: DipCase) -> tuple[str, ...]:
        """The decision in words, step by step (for an explanation trace; ``group`` stays the fast path)."""
        derived = derive(case, self.classes)
        result = self.group(case)
        if derived is None:
            return ("no principal diagnosis (dx empty after trimming): 0000, ungroupable",)
        classes = ", ".join(f"{code.strip()} {self.classes.classify(code.strip()).value}"
                            for code in case.px if code.strip()) or "none"
        lines = [f"principal diagnosis {derived.dx4} (dx4), {derived.dx3} (dx3)", f"procedures: {classes}",
                 f"P = {'+'.join(derived.procedures) or '(empty)'}; type {derived.case_type.value}; "
                 f"key {derived.key}"]
        if result.kind is DipKind.CORE:
            lines.append(f"the key is core group {result.group}")
        elif result.kind is DipKind.CORE_PARTIAL:
            lines.append(f"no core group {derived.key}; the largest core subset of dx4 {derived.dx4} is "
                         f"{result.group} ({len(result.procedures)} of {len(derived.procedures)} procedures)")
        else:
            lines.append(f"no core group of dx4 {derived.dx4} fits: comprehensive {result.group}"
                         + ("" if result.group in self.groups else " (not in the catalogue: settled by item)"))
        return tuple(lines)
