"""Persistence of DIP catalogue versions (schema ``grouping``). Rows are inserted once and never changed."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.dip.case import ProcedureClasses
from ..domain.dip.catalogue import Catalogue
from ..domain.dip.scheme import CatalogueProvenance, CatalogueVersion, parse_scheme_id
from .dip_files import catalogue_digest, parse_catalogue, render_catalogue
from .tables import dip_catalogue_version as t


@dataclass(frozen=True)
class StoredVersion:
    """A stored version as read back: the file as published plus what the service needs to serve it."""

    scheme_id: str
    version: int
    digest: str
    surgery_digest: str
    catalogue_tsv: bytes
    provenance: CatalogueProvenance
    created_time: datetime

    def load(self, classes: ProcedureClasses) -> CatalogueVersion:
        """Parse and check the stored file (core types against ``classes``); the digest is the stored one."""
        catalogue = parse_catalogue(self.catalogue_tsv, f"{self.scheme_id} version {self.version}", classes)
        return CatalogueVersion(self.scheme_id, self.version, self.digest, self.surgery_digest, catalogue,
                                self.provenance, self.created_time)


class DipCatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def fingerprint(self) -> str:
        """Changes whenever a version is published (versions are never changed or deleted)."""
        row = (await self.session.execute(select(func.count(), func.max(t.c.created_time)))).one()
        return f"{row[0]}:{row[1].isoformat() if row[1] else ''}"

    async def publish(self, scheme_id: str, catalogue: Catalogue, classes: ProcedureClasses,
                      provenance: CatalogueProvenance) -> tuple[CatalogueVersion, bool]:
        """Store ``catalogue`` as the scheme's next version; (the version, True). When the latest version is
        the same catalogue under the same surgery list, nothing is stored: (that version, False).

        A transaction-scoped advisory lock per scheme serialises publishers, so version numbers have no gaps
        and no two publishers take the same one.
        """
        region, year = parse_scheme_id(scheme_id)
        rendered = render_catalogue(catalogue)
        digest = catalogue_digest(rendered, classes)
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('grouping.dip:' || :scheme))"),
                                   {"scheme": scheme_id})
        latest = (await self.session.execute(
            select(t.c.version, t.c.digest).where(t.c.scheme_id == scheme_id).order_by(t.c.version.desc())
            .limit(1))).first()
        if latest is not None and latest.digest == digest:
            stored = await self.get(scheme_id, latest.version)
            assert stored is not None
            return stored.load(classes), False
        version = (latest.version if latest else 0) + 1
        created = (await self.session.execute(insert(t).values(
            scheme_id=scheme_id, version=version, region=region, year=year, digest=digest,
            surgery_digest=classes.digest, source=provenance.source, threshold=provenance.threshold,
            base_periods=list(provenance.base_periods), as_of_sequence=provenance.as_of_sequence,
            cases_read=provenance.cases_read, cases_skipped=provenance.cases_skipped, note=provenance.note,
            group_count=len(catalogue), core_group_count=len(catalogue.core), case_count=catalogue.cases,
            core_case_count=catalogue.core_cases, catalogue_tsv=rendered).returning(t.c.created_time))).scalar_one()
        return CatalogueVersion(scheme_id, version, digest, classes.digest, catalogue, provenance, created), True

    async def get(self, scheme_id: str, version: int) -> StoredVersion | None:
        row = (await self.session.execute(select(t).where(t.c.scheme_id == scheme_id, t.c.version == version))).first()
        return _stored(row) if row is not None else None

    async def versions_except(self, known: Set[tuple[str, int]] = frozenset()) -> list[StoredVersion]:
        """Every version but those in ``known`` (already loaded: versions never change), by scheme and number;
        only the missing files are read."""
        keys = (await self.session.execute(select(t.c.scheme_id, t.c.version))).all()
        missing = [(k.scheme_id, k.version) for k in keys if (k.scheme_id, k.version) not in known]
        if not missing:
            return []
        rows = (await self.session.execute(select(t).where(tuple_(t.c.scheme_id, t.c.version).in_(missing))
                                           .order_by(t.c.scheme_id, t.c.version))).all()
        return [_stored(r) for r in rows]


def _stored(row: object) -> StoredVersion:
    r = row._mapping  # type: ignore[attr-defined]
    return StoredVersion(r["scheme_id"], r["version"], r["digest"], r["surgery_digest"], bytes(r["catalogue_tsv"]),
                         CatalogueProvenance(r["source"], r["threshold"], tuple(r["base_periods"]),
                                             r["as_of_sequence"], r["cases_read"], r["cases_skipped"], r["note"]),
                         r["created_time"])
