"""A case as the predicates see it: the lookups they need, computed once per grouping attempt."""

from __future__ import annotations

from .case import Case


class CaseView:
    """Derived sets of one case (with a possibly replaced procedure list, for the procedure retry).

    Mutable on purpose and private to one grouping call: ``mcc``/``cc`` are filled lazily because
    most cases reach a DRG split only once, and ``tags`` is set by a ``with_proc_tags`` rule.
    """

    __slots__ = ("case", "cc", "dx", "dx0", "dx_set", "mcc", "px", "px0", "px_set", "sec_set", "tags")

    def __init__(self, case: Case, px: tuple[str, ...]) -> None:
        self.case = case
        dx = case.dx
        self.dx = dx
        self.dx0 = dx[0] if dx else None
        self.dx_set = frozenset(dx)
        self.sec_set = frozenset(dx[1:])
        self.px = px
        self.px0 = px[0] if px else None
        self.px_set = frozenset(px)
        self.mcc: bool | None = None
        self.cc: bool | None = None
        self.tags: frozenset[str] = frozenset()
