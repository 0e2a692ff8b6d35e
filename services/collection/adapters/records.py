"""Persistence of settlement records and of the list/record join.

Every writer of a stay's key (institution, ``setl_id``) — an upload storing a list, the record intake, the
joiner — holds that key's advisory lock from before it reads the other side until it commits. So a list and
its record arriving at the same moment are serialised: whichever commits second sees the first, and the join
happens exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.model import region_of
from ..domain.records import SettlementRecord, parse_record
from . import columns
from .tables import SCHEMA

S = SCHEMA
Key = tuple[str, str]
"""(fixmedins_code, setl_id)"""


async def lock_keys(session: AsyncSession, keys: Iterable[Key]) -> None:
    """Take the advisory locks of these stays (in one order, so two writers cannot deadlock); released at
    commit or rollback."""
    names = sorted({f"{code}/{setl_id}" for code, setl_id in keys})
    if names:
        keys_, params = columns.unnested_texts({"keys": names})  # a bulk import's chunk locks 2,000
        await session.execute(text(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
            f"FROM (SELECT k FROM {keys_} AS k ORDER BY k) ordered"), params)


@dataclass(frozen=True)
class StoredRecord:
    record_id: int
    status: str  # ACTIVE / REVERSED
    revision: int
    digest: str
    record: SettlementRecord  # the current revision, read


async def current_records(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, StoredRecord]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = (await session.execute(text(f"""
        SELECT r.record_id, r.fixmedins_code, r.setl_id, r.status, r.current_revision, v.digest, v.body
        FROM unnest(CAST(:codes AS text[]), CAST(:ids AS text[])) AS k(code, setl_id)
        JOIN {S}.settlement_record r ON r.fixmedins_code = k.code AND r.setl_id = k.setl_id
        JOIN {S}.record_revision v ON v.record_id = r.record_id AND v.revision = r.current_revision"""),
        {"codes": [c for c, _ in wanted], "ids": [s for _, s in wanted]})).all()
    return {(r.fixmedins_code, r.setl_id): StoredRecord(r.record_id, r.status, r.current_revision, r.digest,
                                                        parse_record(_json(r.body))) for r in rows}


async def record_revisions(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, tuple[int, str]]:
    """The (revision, status) of each stay's current record: what ``current_records`` finds, without reading
    and parsing the record bodies (a bulk import's chunk compares only these under its locks)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    stays, params = columns.unnested_texts({"codes": [c for c, _ in wanted], "ids": [s for _, s in wanted]})
    rows = (await session.execute(text(f"""
        SELECT r.fixmedins_code, r.setl_id, r.status, r.current_revision
        FROM {stays} AS k(code, setl_id)
        JOIN {S}.settlement_record r ON r.fixmedins_code = k.code AND r.setl_id = k.setl_id
        JOIN {S}.record_revision v ON v.record_id = r.record_id AND v.revision = r.current_revision"""),
        params)).all()
    return {(r.fixmedins_code, r.setl_id): (r.current_revision, r.status) for r in rows}


@dataclass(frozen=True)
class RecordChange:
    """One record line's effect: a new record, or a new revision of a stored one."""

    key: Key
    record_id: int | None  # None: a record new to the platform
    revision: int
    status: str
    record: SettlementRecord
    line: Any


async def store_record_changes(session: AsyncSession, changes: Sequence[RecordChange]) -> None:
    """Write the changes (in order; a key may change several times) with one join task per changed key. The
    caller holds the keys' locks."""
    if not changes:
        return
    new = {c.key: c for c in changes if c.record_id is None and c.revision == 1}
    ids: dict[Key, int] = {}
    if new:
        rows = (await session.execute(text(f"""
            INSERT INTO {S}.settlement_record (fixmedins_code, setl_id, psn_no, mdtrt_id, region, status,
                                               current_revision)
            SELECT code, setl_id, psn_no, mdtrt_id, region, status, 1
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(code text, setl_id text, psn_no text, mdtrt_id text,
                                                               region text, status text)
            RETURNING record_id, fixmedins_code, setl_id"""),
            {"rows": orjson.dumps([{"code": c.key[0], "setl_id": c.key[1], "psn_no": c.record.psn_no,
                                    "mdtrt_id": c.record.mdtrt_id, "region": region_of(c.key[0]),
                                    "status": c.status} for c in new.values()]).decode()})).all()
        ids = {(r.fixmedins_code, r.setl_id): r.record_id for r in rows}
    revisions = [{"record_id": c.record_id or ids[c.key], "revision": c.revision, "region": region_of(c.key[0]),
                  "infno": c.record.infno,
                  "digest": c.record.digest, "body": c.line} for c in changes]
    await session.execute(text(f"""
        INSERT INTO {S}.record_revision (record_id, revision, region, infno, digest, body)
        SELECT record_id, revision, region, infno, digest, body
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(record_id bigint, revision int, region text, infno text,
                                                           digest text, body jsonb)"""),
        {"rows": orjson.dumps(revisions).decode()})
    last: dict[Key, RecordChange] = {}
    for c in changes:
        last[c.key] = c
    updates = [{"record_id": c.record_id or ids[c.key], "revision": c.revision, "status": c.status,
                "psn_no": c.record.psn_no, "mdtrt_id": c.record.mdtrt_id} for c in last.values()]
    await session.execute(text(f"""
        UPDATE {S}.settlement_record r
        SET current_revision = x.revision, status = x.status, updated_time = now(),
            psn_no = CASE WHEN x.psn_no <> '' THEN x.psn_no ELSE r.psn_no END,
            mdtrt_id = CASE WHEN x.mdtrt_id <> '' THEN x.mdtrt_id ELSE r.mdtrt_id END
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(record_id bigint, revision int, status text, psn_no text,
                                                           mdtrt_id text)
        WHERE r.record_id = x.record_id"""), {"rows": orjson.dumps(updates).decode()})
    await add_join_tasks(session, last)


async def add_join_tasks(session: AsyncSession, keys: Iterable[Key]) -> None:
    wanted = sorted(set(keys))
    if wanted:
        await session.execute(text(
            f"INSERT INTO {S}.join_task (fixmedins_code, setl_id, region) "
            f"SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:ids AS text[]), CAST(:regions AS text[]))"),
            {"codes": [c for c, _ in wanted], "ids": [s for _, s in wanted],
             "regions": [region_of(c) for c, _ in wanted]})


async def claim_join_tasks(session: AsyncSession, keys: Sequence[Key] | None, limit: int) -> list[tuple[int, Key]]:
    """Up to ``limit`` join tasks (of these keys, or any), locked for this transaction; tasks another joiner
    holds are skipped (it is joining them)."""
    where = ""
    params: dict[str, Any] = {"limit": limit}
    if keys is not None:
        where = ("WHERE (fixmedins_code, setl_id) IN (SELECT * FROM unnest(CAST(:codes AS text[]), "
                 "CAST(:ids AS text[])))")
        params |= {"codes": [c for c, _ in keys], "ids": [s for _, s in keys]}
    rows = (await session.execute(text(
        f"SELECT task_id, fixmedins_code, setl_id FROM {S}.join_task {where} ORDER BY task_id LIMIT :limit "
        f"FOR UPDATE SKIP LOCKED"), params)).all()
    return [(r.task_id, (r.fixmedins_code, r.setl_id)) for r in rows]


async def delete_join_tasks(session: AsyncSession, task_ids: Sequence[int]) -> None:
    await session.execute(text(f"DELETE FROM {S}.join_task WHERE task_id = ANY(CAST(:ids AS bigint[]))"),
                          {"ids": list(task_ids)})


@dataclass(frozen=True)
class ListState:
    """A stay's list as the joiner sees it: its current revision and what it was joined with."""

    list_id: int
    setl_list_id: str
    status: str
    revision: int
    body: Any
    record_revision: int | None
    last_event_revision: int | None  # the revision of the list's last feed event; None when it has none


async def list_states(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, ListState]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = (await session.execute(text(f"""
        SELECT l.list_id, l.setl_list_id, l.fixmedins_code, l.setl_id, l.status, l.current_revision, r.body,
               r.record_revision,
               (SELECT e.revision FROM {S}.case_event e WHERE e.list_id = l.list_id ORDER BY e.event_id DESC
                LIMIT 1) AS last_event_revision
        FROM unnest(CAST(:codes AS text[]), CAST(:ids AS text[])) AS k(code, setl_id)
        JOIN {S}.settlement_list l ON l.fixmedins_code = k.code AND l.setl_id = k.setl_id
        JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision"""),
        {"codes": [c for c, _ in wanted], "ids": [s for _, s in wanted]})).all()
    return {(r.fixmedins_code, r.setl_id): ListState(r.list_id, r.setl_list_id, r.status, r.current_revision,
                                                     _json(r.body), r.record_revision, r.last_event_revision)
            for r in rows}


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value
