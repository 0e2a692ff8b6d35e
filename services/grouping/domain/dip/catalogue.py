"""A DIP catalogue (病种目录库) as data: the rows of FORMAT.md's ``catalogue.tsv``.

A catalogue is built once from base-year cases (``build``), written and versioned by adapters, and compiled for
grouping (``matching.DipGrouper``). ``group_problem`` says what is wrong with a row read from elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from .case import CaseType, ProcedureClasses, comprehensive_group_id, core_group_id, procedure_set_type

CENT = Decimal("0.01")


class GroupKind(enum.Enum):
    CORE = "core"  # 核心病种: a diagnosis + procedure-set key with at least `threshold` base-year cases
    COMPREHENSIVE = "comprehensive"  # 综合病种: the other cases, by dx3 and case type


@dataclass(frozen=True, slots=True)
class CatalogueGroup:
    """One row of ``catalogue.tsv``. ``dx`` is ``dx4`` for a core group and ``dx3`` for a comprehensive one;
    ``procedures`` is empty for a comprehensive group; ``mean_cost`` is in yuan with exactly two places."""

    group_id: str
    kind: GroupKind
    dx: str
    procedures: tuple[str, ...]
    case_type: CaseType
    cases: int
    mean_cost: Decimal


@dataclass(frozen=True)
class Catalogue:
    """Every core group and every comprehensive group with base-year cases, sorted by ``group_id`` in byte
    order (code point order of ``str``), ids unique."""

    groups: tuple[CatalogueGroup, ...]

    def __post_init__(self) -> None:
        ids = [g.group_id for g in self.groups]
        if any(a >= b for a, b in pairwise(ids)):
            raise ValueError("catalogue groups must be unique and sorted by group_id in byte order")

    def __iter__(self) -> Iterator[CatalogueGroup]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def core(self) -> tuple[CatalogueGroup, ...]:
        return tuple(g for g in self.groups if g.kind is GroupKind.CORE)

    @property
    def comprehensive(self) -> tuple[CatalogueGroup, ...]:
        return tuple(g for g in self.groups if g.kind is GroupKind.COMPREHENSIVE)

    @property
    def cases(self) -> int:
        return sum(g.cases for g in self.groups)

    @property
    def core_cases(self) -> int:
        return sum(g.cases for g in self.groups if g.kind is GroupKind.CORE)


def group_problem(group: CatalogueGroup, classes: ProcedureClasses | None = None) -> str | None:
    """What makes ``group`` inconsistent (its id against its columns, counts, the money), or ``None``.

    With ``classes`` a core group's type must be the one its procedures imply under that surgery list: a
    catalogue built with another list would group cases of the same procedures into other types.
    """
    if group.cases < 1:
        return f"cases must be a positive integer, not {group.cases}"
    if group.mean_cost != group.mean_cost.quantize(CENT) or group.mean_cost < 0:
        return f"mean_cost must be a non-negative amount with two decimals, not {group.mean_cost}"
    if group.kind is GroupKind.CORE:
        expected = core_group_id(group.dx, group.procedures)
        if group.group_id != expected:
            return f"a core group's id is dx|procedures ({expected!r}), not {group.group_id!r}"
        if len(set(group.procedures)) != len(group.procedures) or list(group.procedures) != sorted(group.procedures):
            return "procedures must be distinct and in byte order"
        if group.case_type is CaseType.DIAGNOSTIC:
            return "a core group's type is S, T or C (diagnostic procedures are not in its key)"
        if classes is not None and group.case_type is not (implied := procedure_set_type(group.procedures, classes)):
            return (f"type {group.case_type.value} disagrees with the surgery list, which makes these procedures "
                    f"{implied.value}")
        return None
    if group.procedures:
        return "a comprehensive group has no procedures"
    expected = comprehensive_group_id(group.dx, group.case_type)
    if group.group_id != expected:
        return f"a comprehensive group's id is dx/type ({expected!r}), not {group.group_id!r}"
    return None


def sorted_catalogue(groups: Iterable[CatalogueGroup]) -> Catalogue:
    return Catalogue(tuple(sorted(groups, key=lambda g: g.group_id)))
