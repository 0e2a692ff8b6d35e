"""The schemes a grouping process holds, side by side, and grouping requests against them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..domain.case import Case, GroupResult
from ..domain.checks import CodeTables
from ..domain.engine import group_case
from ..domain.errors import UnknownSchemeError
from ..domain.scheme import Scheme
from .dip_catalogues import DipCatalogues

MAX_BATCH = 10_000


@dataclass(frozen=True)
class SchemeRegistry:
    """Compiled CHS-DRG schemes by id, the code tables the input checks use (``None`` if absent), and the DIP
    catalogues (``None`` without a surgery list: DIP cannot type procedures without it)."""

    schemes: Mapping[str, Scheme]
    codes: CodeTables | None
    dip: DipCatalogues | None = None

    def scheme(self, scheme_id: str) -> Scheme:
        found = self.schemes.get(scheme_id)
        if found is None:
            raise UnknownSchemeError(scheme_id, tuple(sorted(self.schemes)))
        return found

    def group(self, scheme_id: str, cases: Iterable[Case], *, checks: bool = False,
              explain: bool = False) -> list[GroupResult]:
        scheme = self.scheme(scheme_id)
        codes = self.codes if checks else None
        if checks and codes is None:
            raise LookupError("input checks need the ICD code tables, which are not loaded")
        return [group_case(scheme, case, codes=codes, explained=explain) for case in cases]
