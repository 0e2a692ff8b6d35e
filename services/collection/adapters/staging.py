"""Bulk writes of many lists at once: the lists' identities as arrays into the statements that store them,
everything else COPYed straight into its table.

Every row carries its idempotency key (the msgid of the original upload), claimed in bulk: rows whose key is
already taken (imported before an interruption, or uploaded through the interface) are skipped, so a
resumed or repeated import never duplicates a list.

Only what the set-based steps need (the key, the stay, the status: a few dozen bytes a row) goes to them, one
array per column: the rejection records and the upsert of the list rows, wave by wave, which hands back each
stored list's id and revision. The wide parts of a list (its body, the feed case, findings, group, history)
are then COPYed once, in binary, into their own tables (``writer.COPIED``); the accepted lists' responses are
completed with their ids here and COPYed with their keys. (Before, the identities went through a temporary
staging table: created, analyzed, rewritten by the claim and again by the list ids, read back, per chunk;
before that, whole rows went through it and cost more than the rest of the import's writes.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.feed import EventKind, case_values, group_json, shared_day
from ..domain.model import Finding, GroupRow, ListStatus, ParsedList
from . import columns, writer
from .repository import PENDING_ID_TOKEN, PENDING_REVISION_TOKEN
from .tables import SCHEMA

S = SCHEMA

STAGE_COLUMNS = ("wave", "accepted", "rownum", "key", "digest", "status", "fixmedins_code", "setl_id", "psn_no",
                 "region", "period", "findings")
"""A staged row: its wave, whether it is accepted (else a rejection record, with its findings), and the identity
of the list."""

_TAKEN = f"SELECT key FROM {S}.idempotency WHERE key = ANY(CAST(:keys AS text[]))"
"""The keys of a chunk already taken (the keys of a chunk are distinct); the rest are the chunk's to claim."""
def _from_arrays(types: Sequence[str], names: str) -> str:
    columns = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(types, start=1))
    return f"SELECT * FROM unnest({columns}) AS x({names})"


def _from_texts(types: Sequence[str], names: str) -> str:
    columns = ", ".join(f"string_to_array(${i}::text, chr(31))::{kind}[]" for i, kind in enumerate(types, start=1))
    return f"SELECT * FROM unnest({columns}) AS x({names})"


_REJECTED_TYPES, _REJECTED_NAMES = ("text", "text", "text", "text"), "key, fixmedins_code, setl_id, findings"
_REJECTED = writer.bulk_rejections(_from_arrays(_REJECTED_TYPES, _REJECTED_NAMES))
_REJECTED_TEXTS = writer.bulk_rejections(_from_texts(_REJECTED_TYPES, _REJECTED_NAMES))
_LIST_TYPES = ("int", "text", "text", "text", "text", "text", "text")
_LIST_NAMES = "rownum, status, fixmedins_code, setl_id, psn_no, region, period"
_LISTS = writer.bulk_lists(_from_arrays(_LIST_TYPES, _LIST_NAMES))
_LISTS_TEXTS = writer.bulk_lists(_from_texts(_LIST_TYPES, _LIST_NAMES))


def _columns(rows: Sequence[tuple[Any, ...]], types: Sequence[str], arrays: str,
             texts: str) -> tuple[str, list[Any]]:
    """The statement (``arrays`` or ``texts``, of columns of ``types``) and its arguments for these rows: each
    column one text (``columns.joined``), else an array of its values."""
    values = list(zip(*rows, strict=True))
    joined = columns.joined(values, types)
    return (texts, joined) if joined is not None else (arrays, list(map(list, values)))


_LIST_COLUMNS = itemgetter(2, 5, 6, 7, 8, 9, 10)  # the stage's rownum, status, fixmedins_code, ... period
_REJECTED_COLUMNS = itemgetter(3, 6, 7, 11)  # its key, fixmedins_code, setl_id, findings

_PENDING_ID_UTF8 = orjson.dumps(PENDING_ID_TOKEN)
_PENDING_REVISION_UTF8 = str(PENDING_REVISION_TOKEN).encode()


class JsonBytes:
    """JSON as orjson writes it, UTF-8 bytes, for a jsonb column of a COPY: the jsonb codec of the connection
    (SQLAlchemy's asyncpg dialect sets it on every connection) sends ``b"\\x01" + value.encode()`` of a str,
    and this ``encode`` is the bytes themselves. A list's 2.7 KB body decoded to a str and encoded back cost
    4 us a list (of about 50 for building and COPYing it); a subclass of bytes wrapping them copied them (2.6 us
    a list), this wrapper does not. Anything else that wants a str fails loudly. (Rows carry the plain bytes,
    which a worker process pickles at a third of the cost of a str; the records COPYed wrap them.)"""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class StagedList:
    """A list to store in bulk: its staging row (``STAGE_COLUMNS``) and, when accepted, the rest of it, ready for
    COPY (the revision's values after its list id and revision, its group, findings and feed case)."""

    stage: tuple[Any, ...]
    revision: tuple[Any, ...] = ()
    group: tuple[str, ...] | None = None
    findings: tuple[tuple[str, str, str, str, str], ...] = ()
    case: tuple[Any, ...] = ()
    response: bytes = b""  # its key's, UTF-8 JSON; an accepted list's with the list id and revision stand-ins

    @property
    def rownum(self) -> int:
        return int(self.stage[2])

    @property
    def wave(self) -> int:
        return int(self.stage[0])

    @property
    def status(self) -> str:
        return str(self.stage[5])


def accepted_list(lst: ParsedList, *, wave: int, rownum: int, key: str, digest: str, status: ListStatus,
                  record_revision: int | None, group: GroupRow | None, findings: Sequence[Finding], ruleset: str,
                  hospital_level: int, response: bytes) -> StagedList:
    """An accepted (or pending) list, as ``repository.writer_row`` has it for one upload, in the columns of
    ``writer.COPIED``."""
    f = lst.facts
    return StagedList(
        stage=(wave, True, rownum, key, digest, status.value, lst.fixmedins_code, lst.setl_id, lst.psn_no,
               lst.region, lst.period, None),
        revision=(lst.region, key, digest, orjson.dumps(lst.body), ruleset, lst.total_fen, lst.fund_fen,
                  f.los_days, f.sex, f.age_years,
                  shared_day(lst.discharge_date) if lst.discharge_date else None, f.discharge_type,
                  f.diagnoses[0] if f.diagnoses else "", record_revision),
        group=_group_row(group, lst.region) if group else None,
        findings=tuple((x.code, x.severity.value, x.field, x.message_zh, x.message_en) for x in findings)
        if findings else (),
        case=case_values(lst, _groups_json(group), hospital_level), response=response)


@lru_cache(maxsize=4096)
def _group_row(group: GroupRow, region: str) -> tuple[str, ...]:
    """A group's ``group_result`` values after the list id and revision (one tuple shared by the lists of a
    group and region)."""
    return (group.scheme_id, region, group.scheme_version, group.drg, group.adrg, group.mdc, group.status,
            group.kind)


@lru_cache(maxsize=4096)
def _groups_json(group: GroupRow | None) -> str:
    """The feed case's groups of a list with this group, as JSON text (the lists of a chunk share a few hundred
    groups)."""
    return orjson.dumps([group_json(group)] if group else []).decode()


def rejected_list(*, rownum: int, key: str, digest: str, fixmedins_code: str, setl_id: str,
                  findings: Sequence[Finding], response: bytes) -> StagedList:
    """A rejected line: a rejection record and its key's response."""
    return StagedList(stage=(0, False, rownum, key, digest, ListStatus.REJECTED.value, fixmedins_code, setl_id,
                             None, None, None, orjson.dumps([x.to_json() for x in findings]).decode()),
                      response=response)


@dataclass(frozen=True)
class StagedCounts:
    accepted: int
    pending: int
    rejected: int
    skipped: int


class Stored(NamedTuple):
    """A list row ``writer.bulk_lists`` stored for a staged list."""

    list_id: int
    setl_list_id: str
    revision: int
    had_events: bool


class KeysTaken(Exception):
    """An upload at the door claimed one of the chunk's keys after the chunk saw it free: the transaction is
    lost; written again, the chunk skips that key."""


async def write_staged(session: AsyncSession, rows: Sequence[StagedList], waves: int) -> StagedCounts:
    """Store ``rows``: find their free keys, write rejection records and list rows wave by wave (a wave never
    holds the same list twice, so the upsert of the list rows is well defined), then COPY the stored lists'
    revisions, groups, findings, history and feed events, and the keys with their responses (each written once,
    complete: ``KeysTaken`` when one was taken meanwhile).

    The rows go to PostgreSQL as arrays, one per column, straight into the statements that store them: no
    staging table to create, analyze, rewrite with the claims and the list ids and read back per chunk."""
    if await _lz4(session):
        await session.execute(text("SET LOCAL default_toast_compression = lz4"))
    taken = set((await session.execute(text(_TAKEN), {"keys": [r.stage[3] for r in rows]})).scalars())
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    assert raw is not None
    free = [r for r in rows if r.stage[3] not in taken]
    stored: dict[int, Stored] = {}  # rownum: the list row stored for it
    for wave in range(waves):
        ours = [r.stage for r in free if r.stage[0] == wave]
        rejected = [_REJECTED_COLUMNS(s) for s in ours if not s[1]]
        if rejected:
            statement, values = _columns(rejected, _REJECTED_TYPES, _REJECTED, _REJECTED_TEXTS)
            await raw.execute(statement, *values)
        accepted = [_LIST_COLUMNS(s) for s in ours if s[1]]
        if accepted:
            rownum = {(s[2], s[3]): s[0] for s in accepted}  # the stay's row in this wave
            statement, values = _columns(accepted, _LIST_TYPES, _LISTS, _LISTS_TEXTS)
            for list_id, setl_list_id, code, setl_id, revision, had_events in await raw.fetch(statement, *values):
                stored[rownum[(code, setl_id)]] = Stored(list_id, setl_list_id, revision, had_events)
    order = sorted(free, key=lambda r: (r.stage[0], r.stage[2]))  # file order within a wave, waves in turn
    copied = _copied([(r, stored[r.stage[2]]) for r in order if r.stage[1]])
    copied["idempotency"] = [_claim(r, stored.get(r.stage[2])) for r in order]
    for table, records in copied.items():
        if records:
            try:
                await raw.copy_records_to_table(table, schema_name=S, records=records, columns=writer.COPIED[table])
            except UniqueViolationError as error:
                if error.constraint_name == "idempotency_pkey":
                    raise KeysTaken() from None
                raise
    statuses = [r.stage[5] for r in free if r.stage[1]]
    pending = statuses.count(ListStatus.PENDING.value)
    return StagedCounts(len(statuses) - pending, pending, len(free) - len(statuses), len(rows) - len(free))


_lz4_known: list[bool] = []


async def _lz4(session: AsyncSession) -> bool:
    """Whether the server compresses with lz4 (built with it; asked once per process). A list's body, 2.7 KB of
    JSON, is the one value of a list that PostgreSQL compresses; pglz, its default, cost it 40 to 60 us a list
    more than lz4 (a fifth of its CPU for an import), for bodies 15 % smaller. The import's transaction
    compresses with lz4; the content stored is the same, and uploads, and reads, are unaffected (each stored
    value names its method)."""
    if not _lz4_known:
        _lz4_known.append(bool((await session.execute(text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))).scalar()))
    return _lz4_known[0]


def _claim(row: StagedList, stored: Any) -> tuple[str, str, JsonBytes]:
    """A key with its response: an accepted list's with its platform id and revision (as ``writer.store_one``
    fills them in). The stand-ins are ASCII, so they are replaced in the response's UTF-8 bytes (which COPY sends
    as they are) as in its text."""
    response = row.response
    if stored is not None:
        response = response.replace(_PENDING_ID_UTF8, orjson.dumps(stored.setl_list_id)).replace(
            _PENDING_REVISION_UTF8, str(stored.revision).encode())
    return row.stage[3], row.stage[4], JsonBytes(response)


_ACTIVE = ListStatus.ACTIVE.value
_ACCEPTED, _REVISED = EventKind.ACCEPTED.value, EventKind.REVISED.value


def _copied(stored: Sequence[tuple[StagedList, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The records of each table of ``writer.COPIED`` for the stored lists (in wave and file order). (A loop of
    plain tuple building: 16 us a list went here, a third of it in properties, enum lookups and a generator per
    list's findings.)"""
    revisions: list[tuple[Any, ...]] = []
    groups: list[tuple[Any, ...]] = []
    findings: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    reasons: dict[tuple[int, str], str] = {}
    in_feed: set[int] = set()  # lists given an event by an earlier wave of this chunk
    for row, s in stored:
        list_id, revision, rev, status = s.list_id, s.revision, row.revision, row.stage[5]
        region = rev[0]
        revisions.append((list_id, revision, region, rev[1], rev[2], JsonBytes(rev[3]), *rev[4:]))
        if row.group is not None:
            groups.append((list_id, revision, *row.group))
        if row.findings:
            findings += [(list_id, region, revision, *f) for f in row.findings]
        reason = reasons.get((revision, status))
        if reason is None:
            reason = reasons[(revision, status)] = writer.import_reason(revision, status)
        history.append((list_id, region, revision, status, reason))
        had_events = s.had_events or list_id in in_feed
        if had_events or status == _ACTIVE:
            events.append((_REVISED if had_events else _ACCEPTED, list_id, s.setl_list_id, revision, status,
                           *row.case))
            in_feed.add(list_id)
    return {"list_revision": revisions, "group_result": groups, "list_finding": findings, "status_history": history,
            "case_event": events}
