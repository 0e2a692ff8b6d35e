"""Bulk writes of many lists at once: the lists' identities through a narrow staging table, everything else COPYed
straight into its table.

Every row carries its idempotency key (the msgid of the original upload), claimed in bulk: rows whose key is
already taken (imported before an interruption, or uploaded through the interface) are skipped, so a
resumed or repeated import never duplicates a list.

Only what the set-based steps need (the key, the stay, the status: a few dozen bytes a row) goes through the
staging table: the claim, the rejection records and the upsert of the list rows run there, wave by wave, and
hand back each stored row's list id and revision. The wide parts of a list (its body, the feed case, findings,
group, history) are then COPYed once, in binary, into their own tables (``writer.COPIED``), never written to a
staging row first and copied again; the accepted lists' responses are completed with their ids here and set on
their claimed keys. (Before, COPYing the whole rows into the staging table, rewriting them with every step and
parsing the feed case and findings back from JSON cost more than the rest of the import's writes.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.feed import EventKind, case_values, group_json
from ..domain.model import Finding, GroupRow, ListStatus, ParsedList
from . import writer
from .repository import PENDING_ID_TOKEN, PENDING_REVISION_TOKEN
from .tables import SCHEMA

S = SCHEMA

STAGE_COLUMNS = ("wave", "accepted", "rownum", "key", "digest", "status", "fixmedins_code", "setl_id", "psn_no",
                 "region", "period", "findings")
"""A staged row: its wave, whether it is accepted (else a rejection record, with its findings), and the identity
of the list."""

_CREATE = """
CREATE TEMP TABLE stage (
  wave int, accepted bool, rownum int, key text, digest text, status text, fixmedins_code text, setl_id text,
  psn_no text, region text, period text, findings jsonb,
  claimed bool NOT NULL DEFAULT false, list_id bigint, setl_list_id text, revision int, had_events bool)
  ON COMMIT DROP"""

_CLAIM = f"""UPDATE stage SET claimed = true
              WHERE NOT EXISTS (SELECT 1 FROM {S}.idempotency i WHERE i.key = stage.key)"""
"""The rows whose key is free (the keys of a chunk are distinct)."""
_STORED = "SELECT rownum, list_id, setl_list_id, revision, had_events FROM stage WHERE claimed"

_PENDING_ID_JSON = orjson.dumps(PENDING_ID_TOKEN).decode()
_PENDING_REVISION_JSON = str(PENDING_REVISION_TOKEN)


@dataclass(frozen=True, slots=True)
class StagedList:
    """A list to store in bulk: its staging row (``STAGE_COLUMNS``) and, when accepted, the rest of it, ready for
    COPY (the revision's values after its list id and revision, its group, findings and feed case)."""

    stage: tuple[Any, ...]
    revision: tuple[Any, ...] = ()
    group: tuple[str, ...] | None = None
    findings: tuple[tuple[str, str, str, str, str], ...] = ()
    case: tuple[Any, ...] = ()
    response: str = ""  # its key's; an accepted list's with the list id and revision stand-ins

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
                  hospital_level: int, response: str) -> StagedList:
    """An accepted (or pending) list, as ``repository.writer_row`` has it for one upload, in the columns of
    ``writer.COPIED``."""
    f = lst.facts
    return StagedList(
        stage=(wave, True, rownum, key, digest, status.value, lst.fixmedins_code, lst.setl_id, lst.psn_no,
               lst.region, lst.period, None),
        revision=(lst.region, key, digest, orjson.dumps(lst.body).decode(), ruleset, lst.total_fen, lst.fund_fen,
                  f.los_days, f.sex, f.age_years, lst.discharge_date, f.discharge_type,
                  f.diagnoses[0] if f.diagnoses else "", record_revision),
        group=_group_row(group, lst.region) if group else None,
        findings=tuple((x.code, x.severity.value, x.field, x.message_zh, x.message_en) for x in findings),
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
                  findings: Sequence[Finding], response: str) -> StagedList:
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


class KeysTaken(Exception):
    """An upload at the door claimed one of the chunk's keys after the chunk saw it free: the transaction is
    lost; written again, the chunk skips that key."""


async def write_staged(session: AsyncSession, rows: Sequence[StagedList], waves: int) -> StagedCounts:
    """Store ``rows``: find their free keys, write rejection records and list rows wave by wave (a wave never
    holds the same list twice, so the upsert of the list rows is well defined), then COPY the stored lists'
    revisions, groups, findings, history and feed events, and the keys with their responses (each written once,
    complete: ``KeysTaken`` when one was taken meanwhile)."""
    await session.execute(text(_CREATE))
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table("stage", records=[r.stage for r in rows], columns=STAGE_COLUMNS)
    await session.execute(text("ANALYZE stage"))
    await session.execute(text(_CLAIM))  # by the keys' index (before nested loops are turned off)
    # The planner cannot see how many rows a data-modifying CTE returns and joins the staged rows to the
    # upserted lists by nested loop (5,000 x 5,000 per chunk, seconds); within this transaction, hash joins.
    # Disabled nested loops cost 10^10 in the planner's eyes, which made every step JIT-compile its
    # expressions: 1.5 to 2.3 s per step and chunk (EXPLAIN ANALYZE), for statements that run in 0.1 to 0.5 s.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    await session.execute(text("SET LOCAL jit = off"))
    for wave in range(waves):
        for step in writer.staged_steps():
            await session.execute(text(step), {"wave": wave})
    claimed = {r.rownum: r for r in (await session.execute(text(_STORED))).all()}
    by_row = {r.rownum: r for r in rows}
    order = sorted(claimed, key=lambda n: (by_row[n].wave, n))  # file order within a wave, waves in turn
    copied = _copied([(by_row[n], claimed[n]) for n in order if claimed[n].list_id is not None])
    copied["idempotency"] = [_claim(by_row[n], claimed[n]) for n in order]
    for table, records in copied.items():
        if records:
            try:
                await raw.copy_records_to_table(table, schema_name=S, records=records, columns=writer.COPIED[table])
            except UniqueViolationError as error:
                if error.constraint_name == "idempotency_pkey":
                    raise KeysTaken() from None
                raise
    counts = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE claimed AND accepted AND status = 'ACTIVE') AS a, "
        "count(*) FILTER (WHERE claimed AND accepted AND status = 'PENDING') AS p, "
        "count(*) FILTER (WHERE claimed AND NOT accepted) AS r, count(*) FILTER (WHERE NOT claimed) AS s "
        "FROM stage"))).one()
    return StagedCounts(int(counts.a), int(counts.p), int(counts.r), int(counts.s))


def _claim(row: StagedList, stored: Any) -> tuple[str, str, str]:
    """A key with its response: an accepted list's with its platform id and revision (as ``writer.store_one``
    fills them in)."""
    key, digest, response = row.stage[3], row.stage[4], row.response
    if stored.list_id is not None:
        response = response.replace(_PENDING_ID_JSON, orjson.dumps(stored.setl_list_id).decode()).replace(
            _PENDING_REVISION_JSON, str(stored.revision))
    return key, digest, response


def _copied(stored: Sequence[tuple[StagedList, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The records of each table of ``writer.COPIED`` for the stored lists (in wave and file order)."""
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in writer.COPIED}
    revisions, groups, findings = out["list_revision"], out["group_result"], out["list_finding"]
    history, events = out["status_history"], out["case_event"]
    in_feed: set[int] = set()  # lists given an event by an earlier wave of this chunk
    for row, s in stored:
        list_id, revision, region = s.list_id, s.revision, row.revision[0]
        revisions.append((list_id, revision, *row.revision))
        if row.group is not None:
            groups.append((list_id, revision, *row.group))
        findings.extend((list_id, region, revision, *f) for f in row.findings)
        history.append((list_id, region, revision, row.status, writer.import_reason(revision, row.status)))
        had_events = bool(s.had_events) or list_id in in_feed
        if row.status == ListStatus.ACTIVE.value or had_events:
            kind = EventKind.REVISED if had_events else EventKind.ACCEPTED
            events.append((kind.value, list_id, s.setl_list_id, revision, row.status, *row.case))
            in_feed.add(list_id)
    return out
