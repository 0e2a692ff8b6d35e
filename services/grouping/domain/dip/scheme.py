"""DIP schemes as the grouping service names them: ``dip-<region>-<year>``, each a line of immutable catalogue
versions (built from base-year cases, imported, or shipped in the reference directory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .catalogue import Catalogue

_SCHEME_ID = re.compile(r"dip-([0-9]{6})-([0-9]{4})")
REFERENCE_VERSION = 0
"""The version number of a catalogue read from the reference directory: any stored version supersedes it."""


class SchemeIdError(ValueError):
    """Not a DIP scheme id."""


def is_dip_scheme(scheme_id: str) -> bool:
    return scheme_id.startswith("dip-")


def parse_scheme_id(scheme_id: str) -> tuple[str, int]:
    """``"dip-330700-2026"`` -> (``"330700"``, 2026): the prefecture (6-digit division code) and the year the
    catalogue is used for."""
    match = _SCHEME_ID.fullmatch(scheme_id)
    if match is None:
        raise SchemeIdError(f"{scheme_id!r} is not a DIP scheme id: dip-<6-digit region>-<year>, e.g. dip-330700-2026")
    return match.group(1), int(match.group(2))


@dataclass(frozen=True)
class CatalogueProvenance:
    """Where a catalogue version came from: ``source`` is ``upload``, ``feed``, ``import`` or ``reference``;
    the threshold it was built with (``None`` for a catalogue made elsewhere); the base periods (``"2025"`` or
    ``"2025-03"``) and the feed sequence it was read at, for a build from collection's case feed; the cases read
    and those skipped without a principal diagnosis."""

    source: str
    threshold: int | None = None
    base_periods: tuple[str, ...] = ()
    as_of_sequence: int = 0
    cases_read: int = 0
    cases_skipped: int = 0
    note: str = ""


@dataclass(frozen=True)
class CatalogueVersion:
    """One immutable, published version of a DIP scheme: its number, the catalogue and the digest that covers
    the catalogue file and the surgery list it was built with. ``label`` is what results carry."""

    scheme_id: str
    version: int
    digest: str
    surgery_digest: str
    catalogue: Catalogue
    provenance: CatalogueProvenance
    created_time: datetime | None = None

    @property
    def label(self) -> str:
        number = "ref" if self.version == REFERENCE_VERSION else str(self.version)
        return f"{number}+{self.digest[:12]}"
