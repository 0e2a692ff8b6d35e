"""Persistence of settlement lists (schema ``collection``).

An accepted upload is written by one statement (data-modifying CTEs): the list row (created, or its revision
counter incremented atomically), the revision, its group, findings and status change. Together with the
idempotency row claimed at the start of the same transaction, a crash at any point leaves either all of it or
none of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.feed import EventKind, case_columns
from ..domain.model import Finding, GroupRow, ListStatus, ParsedList, Severity
from . import feed
from .tables import SCHEMA

S = SCHEMA
PENDING_ID_TOKEN = "__SETL_LIST_ID__"
PENDING_REVISION_TOKEN = -919191919
"""Stand-ins in a response rendered before the storing statement knows the list id and the revision."""


class IdempotencyKeyTaken(Exception):
    """The idempotency key was stored by an earlier (or concurrent, now committed) upload."""


def _taken(error: IntegrityError) -> bool:
    return "idempotency_pkey" in str(error.orig)


@dataclass(frozen=True)
class StoredList:
    list_id: int
    setl_list_id: str
    fixmedins_code: str
    setl_id: str
    psn_no: str
    region: str
    period: str
    status: str
    revision: int
    revision_count: int
    total_fen: int
    body: Any
    received_time: datetime
    findings: list[Finding]
    group: GroupRow | None
    history: list[tuple[str, datetime, str, int]]


_ACCEPT = text(f"""
WITH n AS (SELECT nextval('{S}.list_id_seq') AS id),
l AS (
  INSERT INTO {S}.settlement_list (list_id, setl_list_id, fixmedins_code, setl_id, psn_no, region, period, status,
                                   current_revision)
  SELECT n.id, :region || 'L' || to_char(now(), 'YYYYMMDD') || lpad(n.id::text, 8, '0'), :code, :setl_id, :psn_no,
         :region, :period, 'ACTIVE', 1 FROM n
  ON CONFLICT (fixmedins_code, setl_id) DO UPDATE
     SET current_revision = {S}.settlement_list.current_revision + 1, psn_no = excluded.psn_no,
         period = excluded.period, status = 'ACTIVE', updated_time = now()
  RETURNING list_id, setl_list_id, current_revision),
r AS (
  INSERT INTO {S}.list_revision (list_id, revision, idempotency_key, digest, body, ruleset, total_fen, fund_fen,
                                 los_days, sex, age_years, discharge_date, discharge_type, principal_dx)
  SELECT l.list_id, l.current_revision, :key, :digest, CAST(:body AS jsonb), :ruleset, :total, :fund, :los, :sex,
         :age, :discharge_date, :discharge_type, :principal_dx FROM l
  RETURNING list_id, revision),
g AS (
  INSERT INTO {S}.group_result (list_id, revision, scheme_id, scheme_version, drg, adrg, mdc, status, kind)
  SELECT r.list_id, r.revision, :scheme_id, :scheme_version, :drg, :adrg, :mdc, :group_status, :group_kind FROM r
  WHERE :scheme_id <> ''),
e AS ({feed.append_from_json(
    kind="CASE WHEN l.current_revision = 1 THEN 'ACCEPTED' ELSE 'REVISED' END", list_id="l.list_id",
    setl_list_id="l.setl_list_id", revision="l.current_revision", status="'ACTIVE'",
    content="CAST(:case AS jsonb)", source="l")}),
h AS (
  INSERT INTO {S}.status_history (list_id, revision, status, reason)
  SELECT r.list_id, r.revision, 'ACTIVE', CASE WHEN r.revision = 1 THEN 'upload' ELSE 'revision ' || r.revision END
  FROM r),
f AS (
  INSERT INTO {S}.list_finding (list_id, revision, code, severity, field, message_zh, message_en)
  SELECT r.list_id, r.revision, x.code, x.severity, x.field, x.message_zh, x.message_en
  FROM r, jsonb_to_recordset(CAST(:findings AS jsonb))
       AS x(code text, severity text, field text, message_zh text, message_en text)),
i AS (
  INSERT INTO {S}.idempotency (key, digest, response)
  SELECT :key, :digest, CAST(replace(replace(CAST(:template AS text), '"{PENDING_ID_TOKEN}"',
                                             to_json(l.setl_list_id)::text),
                                     '{PENDING_REVISION_TOKEN}', l.current_revision::text) AS jsonb)
  FROM l WHERE CAST(:key AS text) IS NOT NULL
  RETURNING response)
SELECT l.setl_list_id, l.current_revision, (SELECT response FROM i) AS response FROM l
""")


class CollectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- idempotency ---------------------------------------------------------------------------------------
    async def stored_response(self, key: str) -> tuple[str, Any] | None:
        row = (await self.session.execute(text(f"SELECT digest, response FROM {S}.idempotency WHERE key = :key"),
                                          {"key": key})).first()
        return (row.digest, row.response) if row is not None else None

    # -- writes ----------------------------------------------------------------------------------------------
    async def save_accepted(self, lst: ParsedList, key: str | None, digest: str, *, warnings: Sequence[Finding],
                            group: GroupRow | None, ruleset: str, hospital_level: int = 0,
                            response_template: Any = None) -> tuple[str, int, Any]:
        """Store an accepted list (new, or a new revision) and, with a key, the response: one statement.

        Raises ``IdempotencyKeyTaken`` when the key is already stored (nothing of this call is then written)."""
        f = lst.facts
        params = {
            "region": lst.region, "code": lst.fixmedins_code, "setl_id": lst.setl_id, "psn_no": lst.psn_no,
            "period": lst.period, "key": key, "digest": digest, "body": orjson.dumps(lst.body).decode(),
            "ruleset": ruleset, "total": lst.total_fen, "fund": lst.fund_fen, "los": f.los_days, "sex": f.sex,
            "age": f.age_years, "discharge_date": lst.discharge_date, "discharge_type": f.discharge_type,
            "principal_dx": f.diagnoses[0] if f.diagnoses else "",
            "scheme_id": group.scheme_id if group else "", "scheme_version": group.scheme_version if group else "",
            "drg": group.drg if group else "", "adrg": group.adrg if group else "", "mdc": group.mdc if group else "",
            "group_status": group.status if group else "", "group_kind": group.kind if group else "",
            "case": orjson.dumps(case_columns(lst, [group] if group else [], hospital_level)).decode(),
            "findings": orjson.dumps([_finding_row(w) for w in warnings]).decode(),
            "template": orjson.dumps(response_template).decode() if key is not None else None,
        }
        try:
            row = (await self.session.execute(_ACCEPT, params)).one()
        except IntegrityError as error:
            if _taken(error):
                raise IdempotencyKeyTaken(key) from None
            raise
        return str(row.setl_list_id), int(row.current_revision), row.response

    async def save_rejection(self, key: str | None, digest: str, *, fixmedins_code: str, setl_id: str,
                             findings: Sequence[Finding], response: Any) -> None:
        """The rejection record and, with a key, the response: one statement (``IdempotencyKeyTaken`` as above)."""
        try:
            await self.session.execute(text(f"""
                WITH i AS (INSERT INTO {S}.idempotency (key, digest, response)
                           SELECT :key, :digest, CAST(:response AS jsonb) WHERE CAST(:key AS text) IS NOT NULL)
                INSERT INTO {S}.rejection (idempotency_key, fixmedins_code, setl_id, findings)
                VALUES (:key, :code, :setl_id, CAST(:findings AS jsonb))"""),
                {"key": key, "digest": digest, "response": orjson.dumps(response).decode(), "code": fixmedins_code,
                 "setl_id": setl_id, "findings": orjson.dumps([_finding_row(f) for f in findings]).decode()})
        except IntegrityError as error:
            if _taken(error):
                raise IdempotencyKeyTaken(key) from None
            raise

    async def set_status(self, list_id: int, status: ListStatus, reason: str) -> bool:
        """Change a list's status, with its history entry and its feed event, in the caller's transaction;
        False (and nothing written) when the list has that status already."""
        changed = (await self.session.execute(text(
            f"UPDATE {S}.settlement_list SET status = :status, updated_time = now() "
            f"WHERE list_id = :id AND status <> :status RETURNING current_revision"),
            {"status": status.value, "id": list_id})).first()
        if changed is None:
            return False
        await self.session.execute(text(
            f"INSERT INTO {S}.status_history (list_id, revision, status, reason) VALUES (:id, :rev, :status, :reason)"),
            {"id": list_id, "rev": changed.current_revision, "status": status.value, "reason": reason})
        kind = EventKind.REVOKED if status is ListStatus.REVOKED else EventKind.REACTIVATED
        await feed.append_status_events(self.session, [list_id], status.value, kind)
        return True

    async def save_groups(self, rows: Sequence[tuple[int, int, GroupRow]]) -> None:
        """Store (or replace) the groups of revisions under their schemes (bulk regrouping), with a feed event
        for each list whose current revision was regrouped, in the caller's transaction."""
        if not rows:
            return
        # Lock the lists (in id order, so concurrent regroups cannot deadlock): the events copy each list's
        # last event, which no upload or status change may append meanwhile.
        await self.session.execute(text(
            f"SELECT list_id FROM {S}.settlement_list WHERE list_id = ANY(CAST(:ids AS bigint[])) "
            f"ORDER BY list_id FOR UPDATE"), {"ids": sorted({i for i, _, _ in rows})})
        await self.session.execute(text(f"""
            INSERT INTO {S}.group_result (list_id, revision, scheme_id, scheme_version, drg, adrg, mdc, status, kind)
            SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(list_id bigint, revision int,
                   scheme_id text, scheme_version text, drg text, adrg text, mdc text, status text, kind text)
            ON CONFLICT (list_id, revision, scheme_id) DO UPDATE
               SET scheme_version = excluded.scheme_version, drg = excluded.drg, adrg = excluded.adrg,
                   mdc = excluded.mdc, status = excluded.status, kind = excluded.kind, grouped_time = now()"""),
            {"rows": orjson.dumps([{"list_id": i, "revision": r, "scheme_id": g.scheme_id,
                                    "scheme_version": g.scheme_version, "drg": g.drg, "adrg": g.adrg, "mdc": g.mdc,
                                    "status": g.status, "kind": g.kind} for i, r, g in rows]).decode()})
        await feed.append_regroup_events(self.session, sorted({(i, r) for i, r, _ in rows}))

    # -- reads -----------------------------------------------------------------------------------------------
    async def find(self, setl_list_id: str = "", fixmedins_code: str = "", setl_id: str = "",
                   revision: int = 0) -> StoredList | None:
        where = "l.setl_list_id = :sid" if setl_list_id else "l.fixmedins_code = :code AND l.setl_id = :setl_id"
        row = (await self.session.execute(text(f"""
            SELECT l.*, r.revision AS rev, r.total_fen, r.body, r.received_time
            FROM {S}.settlement_list l JOIN {S}.list_revision r
              ON r.list_id = l.list_id AND r.revision = CASE WHEN :rev > 0 THEN :rev ELSE l.current_revision END
            WHERE {where}"""), {"sid": setl_list_id, "code": fixmedins_code, "setl_id": setl_id,
                                "rev": revision})).first()
        if row is None:
            return None
        findings = [Finding(r.code, Severity(r.severity), r.field, r.message_zh, r.message_en)
                    for r in (await self.session.execute(text(
                        f"SELECT * FROM {S}.list_finding WHERE list_id = :id AND revision = :rev"),
                        {"id": row.list_id, "rev": row.rev})).all()]
        group = (await self.session.execute(text(
            f"SELECT * FROM {S}.group_result WHERE list_id = :id AND revision = :rev ORDER BY grouped_time DESC "
            f"LIMIT 1"), {"id": row.list_id, "rev": row.rev})).first()
        history = [(h.status, h.change_time, h.reason, h.revision) for h in (await self.session.execute(text(
            f"SELECT * FROM {S}.status_history WHERE list_id = :id ORDER BY change_id"), {"id": row.list_id})).all()]
        return StoredList(
            row.list_id, row.setl_list_id, row.fixmedins_code, row.setl_id, row.psn_no, row.region, row.period,
            row.status, row.rev, row.current_revision, row.total_fen, row.body, row.received_time, findings,
            GroupRow(group.scheme_id, group.scheme_version, group.drg, group.adrg, group.mdc, group.status,
                     group.kind) if group else None, history)

    async def list_page(self, *, fixmedins_code: str, region: str, period: str, status: str, before: int,
                        limit: int) -> list[Any]:
        clauses = ["(:before = 0 OR l.list_id < :before)"]
        for column, value in (("fixmedins_code", fixmedins_code), ("region", region), ("period", period),
                              ("status", status)):
            if value:
                clauses.append(f"l.{column} = :{column}")
        return list((await self.session.execute(text(f"""
            SELECT l.*, r.total_fen, r.received_time, g.scheme_id, g.scheme_version, g.drg, g.adrg, g.mdc,
                   g.status AS group_status
            FROM {S}.settlement_list l
            JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
            LEFT JOIN LATERAL (SELECT * FROM {S}.group_result gr WHERE gr.list_id = l.list_id
                               AND gr.revision = l.current_revision ORDER BY grouped_time DESC LIMIT 1) g ON true
            WHERE {' AND '.join(clauses)} ORDER BY l.list_id DESC LIMIT :limit"""),
            {"fixmedins_code": fixmedins_code, "region": region, "period": period, "status": status,
             "before": before, "limit": limit})).all())

    async def cases(self, region: str, period: str, after: int, limit: int, scheme_id: str = "") -> list[Any]:
        """Compact grouped cases of active lists (current revision), keyset-paged by list id."""
        return list((await self.session.execute(text(f"""
            SELECT l.list_id, l.setl_list_id, l.fixmedins_code, l.psn_no, r.revision, r.total_fen, r.fund_fen,
                   r.los_days, r.discharge_type, r.sex, r.age_years, r.discharge_date, r.principal_dx, r.body,
                   g.drg, g.scheme_id
            FROM {S}.settlement_list l
            JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
            LEFT JOIN LATERAL (SELECT drg, scheme_id FROM {S}.group_result gr WHERE gr.list_id = l.list_id
                               AND gr.revision = l.current_revision AND (:scheme = '' OR gr.scheme_id = :scheme)
                               ORDER BY grouped_time DESC LIMIT 1) g ON true
            WHERE l.region = :region AND l.period = :period AND l.status = 'ACTIVE' AND l.list_id > :after
            ORDER BY l.list_id LIMIT :limit"""),
            {"region": region, "period": period, "after": after, "limit": limit, "scheme": scheme_id})).all())

    async def stream_all(self, region: str, period: str, chunk: int = 1000) -> AsyncIterator[list[Any]]:
        after = 0
        while True:
            rows = await self.cases(region, period, after, chunk)
            if not rows:
                return
            yield rows
            after = rows[-1].list_id


def _finding_row(f: Finding) -> dict[str, str]:
    return {"code": f.code, "severity": f.severity.value, "field": f.field, "message_zh": f.message_zh,
            "message_en": f.message_en}


