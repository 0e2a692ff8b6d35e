"""Bulk writes of many lists at once: COPY into a staging table, then set-based statements.

Every row carries its idempotency key (the msgid of the original upload), claimed in bulk: rows whose key is
already taken (imported before an interruption, or uploaded through the interface) are skipped, so a
resumed or repeated import never duplicates a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from . import feed
from .tables import SCHEMA

S = SCHEMA

STAGE_COLUMNS = ("wave", "rownum", "key", "digest", "accepted", "fixmedins_code", "setl_id", "psn_no", "region",
                 "period", "body", "total_fen", "fund_fen", "los_days", "sex", "age_years", "discharge_date",
                 "discharge_type", "principal_dx", "scheme_id", "scheme_version", "drg", "adrg", "mdc",
                 "group_status", "findings", "ruleset", "group_kind", "case_json", "status", "record_revision")

_CREATE = """
CREATE TEMP TABLE stage (
  wave int, rownum int, key text, digest text, accepted bool, fixmedins_code text, setl_id text, psn_no text,
  region text, period text, body jsonb, total_fen bigint, fund_fen bigint, los_days int, sex smallint,
  age_years int, discharge_date date, discharge_type text, principal_dx text, scheme_id text, scheme_version text,
  drg text, adrg text, mdc text, group_status text, findings jsonb, ruleset text, group_kind text, case_json jsonb,
  status text, record_revision int,
  claimed bool NOT NULL DEFAULT false, list_id bigint, setl_list_id text, revision int, had_events bool)
  ON COMMIT DROP"""

_STEPS = (
    f"""WITH claimed AS (
          INSERT INTO {S}.idempotency (key, digest) SELECT key, digest FROM stage WHERE wave = :wave
          ON CONFLICT DO NOTHING RETURNING key)
        UPDATE stage SET claimed = true FROM claimed WHERE stage.key = claimed.key AND stage.wave = :wave""",
    f"""INSERT INTO {S}.rejection (idempotency_key, fixmedins_code, setl_id, findings)
        SELECT key, fixmedins_code, setl_id, findings FROM stage WHERE wave = :wave AND claimed AND NOT accepted""",
    f"""WITH l AS (
          INSERT INTO {S}.settlement_list (list_id, setl_list_id, fixmedins_code, setl_id, psn_no, region, period,
                                           status, current_revision)
          SELECT id, region || 'L' || to_char(now(), 'YYYYMMDD') || lpad(id::text, 8, '0'), fixmedins_code, setl_id,
                 psn_no, region, period, status, 1
          FROM (SELECT nextval('{S}.list_id_seq') AS id, * FROM stage WHERE wave = :wave AND claimed AND accepted
                ORDER BY rownum) x
          ON CONFLICT (fixmedins_code, setl_id) DO UPDATE
             SET current_revision = {S}.settlement_list.current_revision + 1, psn_no = excluded.psn_no,
                 period = excluded.period, status = excluded.status, updated_time = now()
          RETURNING list_id, setl_list_id, fixmedins_code, setl_id, current_revision)
        UPDATE stage s SET list_id = l.list_id, setl_list_id = l.setl_list_id, revision = l.current_revision,
                           had_events = l.current_revision > 1
                                        AND EXISTS (SELECT 1 FROM {S}.case_event e WHERE e.list_id = l.list_id)
        FROM l WHERE s.wave = :wave AND s.claimed AND s.accepted AND s.fixmedins_code = l.fixmedins_code
                 AND s.setl_id = l.setl_id""",
    f"""INSERT INTO {S}.list_revision (list_id, revision, idempotency_key, digest, body, ruleset, total_fen, fund_fen,
                                       los_days, sex, age_years, discharge_date, discharge_type, principal_dx,
                                       record_revision)
        SELECT list_id, revision, key, digest, body, ruleset, total_fen, fund_fen, los_days, sex, age_years,
               discharge_date, discharge_type, principal_dx, record_revision
        FROM stage WHERE wave = :wave AND list_id IS NOT NULL""",
    f"""INSERT INTO {S}.group_result (list_id, revision, scheme_id, scheme_version, drg, adrg, mdc, status, kind)
        SELECT list_id, revision, scheme_id, scheme_version, drg, adrg, mdc, group_status, group_kind
        FROM stage WHERE wave = :wave AND list_id IS NOT NULL AND scheme_id <> ''""",
    feed.append_from_json(kind="CASE WHEN s.had_events THEN 'REVISED' ELSE 'ACCEPTED' END", list_id="s.list_id",
                          setl_list_id="s.setl_list_id", revision="s.revision", status="s.status",
                          content="s.case_json", source="stage s")
    + " WHERE s.wave = :wave AND s.list_id IS NOT NULL AND (s.status = 'ACTIVE' OR s.had_events) ORDER BY s.rownum",
    f"""INSERT INTO {S}.list_finding (list_id, revision, code, severity, field, message_zh, message_en)
        SELECT s.list_id, s.revision, x.code, x.severity, x.field, x.message_zh, x.message_en
        FROM stage s, jsonb_to_recordset(s.findings)
             AS x(code text, severity text, field text, message_zh text, message_en text)
        WHERE s.wave = :wave AND s.list_id IS NOT NULL""",
    f"""INSERT INTO {S}.status_history (list_id, revision, status, reason)
        SELECT list_id, revision, status,
               (CASE WHEN revision = 1 THEN 'import' ELSE 'revision ' || revision END)
               || CASE WHEN status = 'PENDING' THEN ', waiting for its settlement record' ELSE '' END
        FROM stage WHERE wave = :wave AND list_id IS NOT NULL""",
    f"""UPDATE {S}.idempotency i SET response = CASE WHEN s.accepted
          THEN jsonb_build_object('infcode', 0, 'err_msg', '', 'output',
                                  jsonb_build_object('setl_list_id', s.setl_list_id, 'revision', s.revision,
                                                     'status', s.status, 'drg', s.drg, 'source', 'import'))
          ELSE jsonb_build_object('infcode', -1, 'err_msg', 'rejected on import', 'output',
                                  jsonb_build_object('findings', s.findings)) END
        FROM stage s WHERE s.wave = :wave AND s.claimed AND i.key = s.key""",
)


@dataclass(frozen=True)
class StagedCounts:
    accepted: int
    pending: int
    rejected: int
    skipped: int


async def write_staged(session: AsyncSession, rows: Sequence[tuple[Any, ...]], waves: int) -> StagedCounts:
    """COPY ``rows`` (STAGE_COLUMNS order) into the staging table and apply them wave by wave (a wave never
    holds the same list twice, so the upsert of the list rows is well defined)."""
    await session.execute(text(_CREATE))
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table("stage", records=rows, columns=STAGE_COLUMNS)
    await session.execute(text("ANALYZE stage"))  # a temporary table has no statistics until analysed
    # The planner cannot see how many rows a data-modifying CTE returns and joins the staged rows to the
    # upserted lists by nested loop (5,000 x 5,000 per chunk, seconds); within this transaction, hash joins.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    for wave in range(waves):
        for step in _STEPS:
            await session.execute(text(step), {"wave": wave})
    counts = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE claimed AND accepted AND status = 'ACTIVE') AS a, "
        "count(*) FILTER (WHERE claimed AND accepted AND status = 'PENDING') AS p, "
        "count(*) FILTER (WHERE claimed AND NOT accepted) AS r, count(*) FILTER (WHERE NOT claimed) AS s "
        "FROM stage"))).one()
    return StagedCounts(int(counts.a), int(counts.p), int(counts.r), int(counts.s))
