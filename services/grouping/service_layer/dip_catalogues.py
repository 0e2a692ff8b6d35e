"""The DIP catalogues a grouping process serves: every published version of every DIP scheme, compiled.

Versions come from the database (built or imported; immutable) and from the reference directory (version 0).
Readers take ``current`` (an immutable value), so a refresh never disturbs grouping in flight; ``refresh``
reads only the versions it has not seen, and a process that publishes a version refreshes at once (the others
within the refresh period).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from libs.common.errors import NotFound
from libs.common.refresh import refresh_forever

from ..adapters.dip_files import DipFileError
from ..domain.dip.case import DipCase, ProcedureClasses
from ..domain.dip.catalogue import Catalogue
from ..domain.dip.matching import DipGrouper, DipResult
from ..domain.dip.scheme import CatalogueProvenance, CatalogueVersion
from ..domain.errors import UnknownSchemeError
from .unit_of_work import GroupingUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DipIndex:
    """Compiled versions by scheme, oldest first; ``fingerprint`` of the database state they reflect."""

    versions: Mapping[str, tuple[VersionedGrouper, ...]] = field(default_factory=dict)
    fingerprint: str = ""

    def grouper(self, scheme_id: str, version: int | None = None) -> VersionedGrouper:
        """The latest version of ``scheme_id``, or the one numbered ``version``."""
        line = self.versions.get(scheme_id)
        if not line:
            raise UnknownSchemeError(scheme_id, tuple(sorted(self.versions)))
        if version is None:
            return line[-1]
        for grouper in line:
            if grouper.version_number == version:
                return grouper
        raise NotFound(f"{scheme_id} has no version {version} (versions: "
                       f"{', '.join(str(g.version_number) for g in line)})", reason="SCHEME_VERSION_NOT_FOUND",
                       metadata={"scheme_id": scheme_id, "version": str(version)})


class VersionedGrouper(DipGrouper):
    """A ``DipGrouper`` that knows the published version it compiles."""

    def __init__(self, published: CatalogueVersion, classes: ProcedureClasses) -> None:
        super().__init__(published.scheme_id, published.label, published.catalogue, classes)
        self.published = published
        self.version_number = published.version


class DipCatalogues:
    """Holds the current ``DipIndex``. Without ``new_uow`` (no database) only reference catalogues are served."""

    def __init__(self, classes: ProcedureClasses, reference: Iterable[CatalogueVersion] = (),
                 new_uow: Callable[[], GroupingUnitOfWork] | None = None) -> None:
        self.classes = classes
        self._reference = [VersionedGrouper(v, classes) for v in reference]
        self._stored: dict[tuple[str, int], VersionedGrouper] = {}
        self._refused: set[tuple[str, int]] = set()
        self._new_uow = new_uow
        self._lock = asyncio.Lock()
        self.current = self._index("")

    def group(self, scheme_id: str, cases: Iterable[DipCase], version: int | None = None) -> list[DipResult]:
        return self.current.grouper(scheme_id, version).group_all(cases)

    async def refresh(self) -> bool:
        """Load versions published since the last refresh; False when nothing changed."""
        if self._new_uow is None:
            return False
        async with self._lock, self._new_uow() as uow:
            fingerprint = await uow.dip.fingerprint()
            if fingerprint == self.current.fingerprint:
                return False
            for stored in await uow.dip.versions_except(self._stored.keys() | self._refused):
                key = (stored.scheme_id, stored.version)
                if stored.surgery_digest != self.classes.digest:
                    self._refused.add(key)
                    log.error("DIP catalogue %s version %d was built with another surgery list; not served",
                              *key)
                    continue
                try:
                    self._stored[key] = VersionedGrouper(stored.load(self.classes), self.classes)
                except DipFileError as bad:
                    self._refused.add(key)
                    log.error("DIP catalogue %s version %d is not usable: %s", *key, bad)
            self.current = self._index(fingerprint)
        return True

    async def refresh_forever(self, every_seconds: float) -> None:
        await refresh_forever(self.refresh, every_seconds, keeping="the DIP catalogue versions already loaded")

    async def publish(self, scheme_id: str, catalogue: Catalogue,
                      provenance: CatalogueProvenance) -> tuple[CatalogueVersion, bool]:
        """Store ``catalogue`` as the next version of ``scheme_id`` (or find it already the latest) and serve it
        from this process at once: (the version, whether it is new)."""
        if self._new_uow is None:
            raise RuntimeError("publishing DIP catalogues needs the database")
        async with self._new_uow() as uow:
            published, created = await uow.dip.publish(scheme_id, catalogue, self.classes, provenance)
            await uow.commit()
        await self.refresh()
        return published, created

    async def stored_versions(self, scheme_id: str) -> Sequence[CatalogueVersion]:
        return [g.published for g in self.current.versions.get(scheme_id, ())]

    def _index(self, fingerprint: str) -> DipIndex:
        lines: dict[str, list[VersionedGrouper]] = {}
        for grouper in [*self._reference, *self._stored.values()]:
            lines.setdefault(grouper.catalogue_id, []).append(grouper)
        return DipIndex({sid: tuple(sorted(line, key=lambda g: g.version_number)) for sid, line in lines.items()},
                        fingerprint)
