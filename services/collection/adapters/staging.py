"""Bulk writes of many lists at once: COPY into a staging table, then the writer's set-based statements.

Every row carries its idempotency key (the msgid of the original upload), claimed in bulk: rows whose key is
already taken (imported before an interruption, or uploaded through the interface) are skipped, so a
resumed or repeated import never duplicates a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from . import writer
from .tables import SCHEMA

S = SCHEMA

STAGE_COLUMNS = ("wave", "accepted", *(name for name, _ in writer.ROW_COLUMNS), "response")
"""A staged row: its wave, whether it is accepted (else a rejection record), the writer's row, and the response
to store with its key (the list id and revision filled in as it is stored)."""

_CREATE = f"""
CREATE TEMP TABLE stage (
  wave int, accepted bool, {", ".join(f"{name} {kind}" for name, kind in writer.ROW_COLUMNS)}, response jsonb,
  claimed bool NOT NULL DEFAULT false, list_id bigint, setl_list_id text, revision int, had_events bool)
  ON COMMIT DROP"""

_RESPOND = f"""
UPDATE {S}.idempotency i
SET response = CASE WHEN s.accepted
  THEN jsonb_set(jsonb_set(s.response, '{{output,setl_list_id}}', to_jsonb(s.setl_list_id)),
                 '{{output,revision}}', to_jsonb(s.revision))
  ELSE s.response END
FROM stage s WHERE s.wave = :wave AND s.claimed AND i.key = s.key"""


@dataclass(frozen=True)
class StagedCounts:
    accepted: int
    pending: int
    rejected: int
    skipped: int


async def write_staged(session: AsyncSession, rows: Sequence[Mapping[str, Any]], waves: int) -> StagedCounts:
    """COPY ``rows`` (dicts of STAGE_COLUMNS) into the staging table and apply them wave by wave (a wave never
    holds the same list twice, so the upsert of the list rows is well defined)."""
    await session.execute(text(_CREATE))
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table("stage", records=[tuple(r[c] for c in STAGE_COLUMNS) for r in rows],
                                    columns=STAGE_COLUMNS)
    # A temporary table has no statistics until analysed: those of the columns the steps join and filter on
    # (all columns, the bodies among them, took a second per chunk).
    await session.execute(text("ANALYZE stage (wave, accepted, key, fixmedins_code, setl_id, status)"))
    # The planner cannot see how many rows a data-modifying CTE returns and joins the staged rows to the
    # upserted lists by nested loop (5,000 x 5,000 per chunk, seconds); within this transaction, hash joins.
    # Disabled nested loops cost 10^10 in the planner's eyes, which made every step JIT-compile its
    # expressions: 1.5 to 2.3 s per step and chunk (EXPLAIN ANALYZE), for statements that run in 0.1 to 0.5 s.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    await session.execute(text("SET LOCAL jit = off"))
    for wave in range(waves):
        for step in (*writer.staged_steps(), _RESPOND):
            await session.execute(text(step), {"wave": wave})
    counts = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE claimed AND accepted AND status = 'ACTIVE') AS a, "
        "count(*) FILTER (WHERE claimed AND accepted AND status = 'PENDING') AS p, "
        "count(*) FILTER (WHERE claimed AND NOT accepted) AS r, count(*) FILTER (WHERE NOT claimed) AS s "
        "FROM stage"))).one()
    return StagedCounts(int(counts.a), int(counts.p), int(counts.r), int(counts.s))
