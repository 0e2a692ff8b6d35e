"""A compiled scheme pack: MDCs, ADRG steps and DRG splits, indexed by principal diagnosis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from .predicates import Compiled
from .severity import SeverityTables

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DrgRule:
    code: str
    name: str
    when: Compiled


@dataclass(frozen=True, slots=True)
class AdrgStep:
    """One ADRG rule step; ``step_id`` is the key in scheme.json, ``adrg`` the code reported."""

    step_id: str
    adrg: str
    rule: Compiled
    drgs: tuple[DrgRule, ...]
    fallback: str
    rule_text: str


@dataclass(frozen=True, slots=True)
class AmbiguousStep:
    """An ``ambiguous_if`` entry of an MDC: when it holds the case goes to the MDC's ambiguous group."""

    when: Compiled


Step = AdrgStep | AmbiguousStep


@dataclass(frozen=True, slots=True)
class GuardedIndex(Generic[T]):
    """An ordered rule list with, per principal diagnosis, the rules whose guard it can pass, in order.

    A rule guarded by a principal-diagnosis set can only hold when ``dx0`` is in that set, so a case only
    tests the rules listed for its ``dx0`` (plus the unguarded ones, always included).
    """

    items: tuple[T, ...]
    by_dx0: Mapping[str, tuple[T, ...]]
    unguarded: tuple[T, ...]

    @staticmethod
    def build(items: tuple[T, ...], guards: tuple[frozenset[str] | None, ...]) -> GuardedIndex[T]:
        positions: dict[str, list[int]] = {}
        free = [i for i, g in enumerate(guards) if g is None]
        for i, guard in enumerate(guards):
            for code in guard or ():
                positions.setdefault(code, []).append(i)
        by_dx0 = {code: tuple(items[i] for i in sorted(set(pos) | set(free))) for code, pos in positions.items()}
        return GuardedIndex(items, by_dx0, tuple(items[i] for i in free))

    def candidates(self, dx0: str | None) -> tuple[T, ...]:
        if dx0 is None:
            return self.unguarded
        return self.by_dx0.get(dx0, self.unguarded)


@dataclass(frozen=True, slots=True)
class Mdc:
    code: str
    entry: Compiled
    steps: GuardedIndex[Step]


@dataclass(frozen=True, slots=True)
class DrgInfo:
    """What ``GetDrg`` answers: a DRG's name and where it sits."""

    code: str
    name: str
    mdc: str
    adrg: str


@dataclass(frozen=True, slots=True)
class Scheme:
    """A grouping scheme ready to group: immutable, shareable across threads and requests.

    ``version`` is the pack's own version plus a digest of its files, so a stored result names exactly the
    rules that made it.
    """

    scheme_id: str
    name: str
    version: str
    mdcs: GuardedIndex[Mdc]
    severity: SeverityTables
    or_procedures: frozenset[str]
    retry_each_other_procedure_alone: bool
    drgs: Mapping[str, DrgInfo]
    adrg_count: int
    step_count: int
