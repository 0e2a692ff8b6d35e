"""Persistence of code systems, versions and codes (schema ``coding``), with COPY for bulk loads."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.model import ActiveIndex, CodeRow, Dataset, VersionIndex, VersionInfo
from ..domain.systems import DIVISION, SYSTEMS
from .tables import SCHEMA, code, code_system, code_version

COPY_CHUNK = 20_000


class CodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_systems(self) -> None:
        rows = [{"system_id": s.system_id, "title": s.title, "format": s.format, "is_map": s.is_map}
                for s in SYSTEMS]
        stmt = pg_insert(code_system).values(rows)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["system_id"],
            set_={"title": stmt.excluded.title, "format": stmt.excluded.format, "is_map": stmt.excluded.is_map}))

    async def load_dataset(self, ds: Dataset, on_rows: Callable[[int], None] | None = None) -> str:
        """Create or replace one version; "unchanged" when the same content is already loaded."""
        found = (await self.session.execute(
            select(code_version.c.version_id, code_version.c.digest)
            .where(code_version.c.system_id == ds.system_id, code_version.c.version == ds.version)
            .with_for_update())).first()
        if found is not None and found.digest == ds.digest:
            return "unchanged"
        values = {"effective_start": ds.effective_start, "source": ds.source, "digest": ds.digest,
                  "code_count": len(ds.rows), "loaded_time": func.now()}
        if found is not None:
            version_id = found.version_id
            await self.session.execute(delete(code).where(code.c.version_id == version_id))
            await self.session.execute(update(code_version).where(code_version.c.version_id == version_id)
                                       .values(**values))
        else:
            created = insert(code_version).values(system_id=ds.system_id, version=ds.version, **values)
            version_id = (await self.session.execute(created.returning(code_version.c.version_id))).scalar_one()
        await self._copy_codes(version_id, ds.rows, on_rows)
        return "updated" if found is not None else "created"

    async def _copy_codes(self, version_id: int, rows: Sequence[CodeRow],
                          on_rows: Callable[[int], None] | None) -> None:
        conn = await self.session.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        for start in range(0, len(rows), COPY_CHUNK):
            chunk = rows[start:start + COPY_CHUNK]
            records = [(version_id, r.code, r.name, json.dumps(dict(r.attributes), ensure_ascii=False), r.retired)
                       for r in chunk]
            await raw.copy_records_to_table("code", schema_name=SCHEMA, records=records,
                                            columns=["version_id", "code", "name", "attributes", "retired"])
            if on_rows is not None:
                on_rows(len(chunk))

    async def versions(self, system_id: str | None = None) -> list[VersionInfo]:
        query = select(code_version).order_by(code_version.c.system_id, code_version.c.effective_start.desc(),
                                              code_version.c.loaded_time.desc())
        if system_id is not None:
            query = query.where(code_version.c.system_id == system_id)
        rows = (await self.session.execute(query)).all()
        active = _active_ids(rows, date.today())
        return [VersionInfo(r.system_id, r.version, r.effective_start, r.effective_end, r.source, r.code_count,
                            r.version_id in active) for r in rows]

    async def version_id(self, system_id: str, version: str | None) -> tuple[int, str] | None:
        """The id and label of the named version, or of the active one when ``version`` is empty."""
        query = select(code_version).where(code_version.c.system_id == system_id)
        if version:
            query = query.where(code_version.c.version == version)
        rows = (await self.session.execute(query)).all()
        if version:
            return (rows[0].version_id, rows[0].version) if rows else None
        active = _active_ids(rows, date.today())
        chosen = [r for r in rows if r.version_id in active]
        return (chosen[0].version_id, chosen[0].version) if chosen else None

    async def get_code(self, version_id: int, value: str) -> Any:
        return (await self.session.execute(
            select(code).where(code.c.version_id == version_id, code.c.code == value))).first()

    async def list_codes(self, version_id: int, prefix: str, name_contains: str, after: str,
                         limit: int) -> list[Any]:
        query = select(code).where(code.c.version_id == version_id).order_by(code.c.code).limit(limit)
        if prefix:
            query = query.where(code.c.code.startswith(prefix, autoescape=True))
        if name_contains:
            query = query.where(code.c.name.contains(name_contains, autoescape=True))
        if after:
            query = query.where(code.c.code > after)
        return list((await self.session.execute(query)).all())

    async def fingerprint(self) -> str:
        """Changes whenever a version is loaded or replaced: what the in-memory index is keyed by."""
        value = (await self.session.execute(text(
            f"SELECT coalesce(string_agg(version_id || ':' || digest, ',' ORDER BY version_id), '') "
            f"FROM {SCHEMA}.code_version"))).scalar_one()
        return str(value)

    async def active_index(self) -> ActiveIndex:
        fingerprint = await self.fingerprint()
        rows = (await self.session.execute(select(code_version))).all()
        versions: dict[str, VersionIndex] = {}
        active = _active_ids(rows, date.today())
        for row in rows:
            if row.version_id not in active:
                continue
            codes = (await self.session.execute(
                select(code.c.code, code.c.retired, code.c.attributes["target"].astext)
                .where(code.c.version_id == row.version_id))).all()
            versions[row.system_id] = VersionIndex(
                row.version, {c: r for c, r, _ in codes}, {c: t for c, _, t in codes if t})
        divisions = versions.get(DIVISION)
        return ActiveIndex(versions, frozenset(divisions.retired) if divisions else frozenset(), fingerprint)


def _active_ids(rows: Sequence[Any], today: date) -> set[int]:
    """Per system, the version in force today with the latest start (ties: the latest loaded)."""
    best: dict[str, Any] = {}
    for r in rows:
        if r.effective_start > today or (r.effective_end is not None and r.effective_end < today):
            continue
        current = best.get(r.system_id)
        if current is None or (r.effective_start, r.loaded_time) > (current.effective_start, current.loaded_time):
            best[r.system_id] = r
    return {r.version_id for r in best.values()}
