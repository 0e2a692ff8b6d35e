"""Small builders for the DIP unit tests."""

from __future__ import annotations

from decimal import Decimal

from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.case import DipCase, ProcedureClasses
from services.grouping.domain.dip.catalogue import Catalogue
from services.grouping.domain.dip.matching import DipGrouper

SURGERY = frozenset({"47.0100", "47.0900", "51.2300", "36.0600", "00.6600", "87.0300", "90.5900x001"})
"""A hand-made surgery list; the last two carry diagnostic prefixes, which always win."""
CLASSES = ProcedureClasses(SURGERY, "test")


def case(dx: str | list[str], *px: str) -> DipCase:
    return DipCase(tuple([dx] if isinstance(dx, str) else dx), px)


def catalogue_of(history: list[tuple[DipCase, str]], threshold: int) -> Catalogue:
    builder = CatalogueBuilder(CLASSES)
    builder.add_all((c, Decimal(cost)) for c, cost in history)
    return builder.catalogue(threshold)


def grouper_of(history: list[tuple[DipCase, str]], threshold: int) -> DipGrouper:
    return DipGrouper("dip-test", "1+test", catalogue_of(history, threshold), CLASSES)
