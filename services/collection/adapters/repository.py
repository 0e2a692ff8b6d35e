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
from ..domain.model import Finding, GroupRow, ListStatus, ParsedList, Severity, StoredList, region_of
from . import feed, records, writer
from .tables import SCHEMA

S = SCHEMA
PENDING_ID_TOKEN = "__SETL_LIST_ID__"
PENDING_REVISION_TOKEN = -919191919
"""Stand-ins in a response rendered before the storing statement knows the list id and the revision."""


class IdempotencyKeyTaken(Exception):
    """The idempotency key was stored by an earlier (or concurrent, now committed) upload."""


def _taken(error: IntegrityError) -> bool:
    return "idempotency_pkey" in str(error.orig)


_STORE_ONE = text(writer.store_one(PENDING_ID_TOKEN, PENDING_REVISION_TOKEN))


class CollectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- idempotency ---------------------------------------------------------------------------------------
    async def stored_response(self, key: str) -> tuple[str, Any] | None:
        row = (await self.session.execute(text(f"SELECT digest, response FROM {S}.idempotency WHERE key = :key"),
                                          {"key": key})).first()
        return (row.digest, row.response) if row is not None else None

    async def save_response(self, key: str, digest: str, response: Any) -> None:
        """Claim an idempotency key with its response (``IdempotencyKeyTaken`` when it is stored already)."""
        try:
            await self.session.execute(text(
                f"INSERT INTO {S}.idempotency (key, digest, response) "
                f"VALUES (:key, :digest, CAST(:response AS jsonb))"),
                {"key": key, "digest": digest, "response": orjson.dumps(response).decode()})
        except IntegrityError as error:
            if _taken(error):
                raise IdempotencyKeyTaken(key) from None
            raise

    # -- writes ----------------------------------------------------------------------------------------------
    async def save_accepted(self, lst: ParsedList, key: str | None, digest: str, *, warnings: Sequence[Finding],
                            group: GroupRow | None, ruleset: str, hospital_level: int = 0,
                            status: ListStatus = ListStatus.ACTIVE, record_revision: int | None = None,
                            response_template: Any = None) -> tuple[str, int, Any]:
        """Store an accepted (ACTIVE) or waiting (PENDING) list, new or a new revision, with its feed event and,
        with a key, the response: one statement.

        Raises ``IdempotencyKeyTaken`` when the key is already stored (nothing of this call is then written)."""
        row = writer_row(lst, key=key, digest=digest, status=status, record_revision=record_revision, group=group,
                         findings=warnings, ruleset=ruleset, hospital_level=hospital_level)
        params = {**row, "template": orjson.dumps(response_template).decode() if key is not None else None}
        try:
            stored = (await self.session.execute(_STORE_ONE, params)).one()
        except IntegrityError as error:
            if _taken(error):
                raise IdempotencyKeyTaken(key) from None
            raise
        return str(stored.setl_list_id), int(stored.revision), stored.response

    async def save_rejection(self, key: str | None, digest: str, *, fixmedins_code: str, setl_id: str,
                             findings: Sequence[Finding], response: Any) -> None:
        """The rejection record and, with a key, the response: one statement (``IdempotencyKeyTaken`` as above)."""
        try:
            await self.session.execute(text(f"""
                WITH i AS (INSERT INTO {S}.idempotency (key, digest, response)
                           SELECT :key, :digest, CAST(:response AS jsonb) WHERE CAST(:key AS text) IS NOT NULL)
                INSERT INTO {S}.rejection (idempotency_key, fixmedins_code, region, setl_id, findings)
                VALUES (:key, :code, :region, :setl_id, CAST(:findings AS jsonb))"""),
                {"key": key, "digest": digest, "response": orjson.dumps(response).decode(), "code": fixmedins_code,
                 "region": region_of(fixmedins_code), "setl_id": setl_id,
                 "findings": orjson.dumps([f.to_json() for f in findings]).decode()})
        except IntegrityError as error:
            if _taken(error):
                raise IdempotencyKeyTaken(key) from None
            raise

    async def set_status(self, list_id: int, status: ListStatus, reason: str) -> bool:
        """Revoke a list, or reactivate a revoked one (ACTIVE again when its current revision is grouped, else
        PENDING, to be joined anew), with its history entry and feed event, in the caller's transaction; False
        (and nothing written) when there is nothing to change."""
        changed = (await self.session.execute(text(f"""
            UPDATE {S}.settlement_list l
            SET status = CASE WHEN :status = 'REVOKED' THEN 'REVOKED'
                              WHEN EXISTS (SELECT 1 FROM {S}.group_result g WHERE g.list_id = l.list_id
                                           AND g.revision = l.current_revision) THEN 'ACTIVE'
                              ELSE 'PENDING' END,
                updated_time = now()
            WHERE list_id = :id AND CASE WHEN :status = 'REVOKED' THEN status <> 'REVOKED' ELSE status = 'REVOKED' END
            RETURNING current_revision, status, fixmedins_code, setl_id, region"""),
            {"status": status.value, "id": list_id})).first()
        if changed is None:
            return False
        await self.session.execute(text(
            f"INSERT INTO {S}.status_history (list_id, region, revision, status, reason) "
            f"VALUES (:id, :region, :rev, :status, :reason)"),
            {"id": list_id, "region": changed.region, "rev": changed.current_revision, "status": changed.status,
             "reason": reason})
        kind = EventKind.REVOKED if status is ListStatus.REVOKED else EventKind.REACTIVATED
        await feed.append_status_events(self.session, [list_id], changed.status, kind)
        if changed.status == ListStatus.PENDING.value:
            await records.add_join_tasks(self.session, [(changed.fixmedins_code, changed.setl_id)])
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
            INSERT INTO {S}.group_result (list_id, revision, scheme_id, region, scheme_version, drg, adrg, mdc,
                                          status, kind)
            SELECT x.list_id, x.revision, x.scheme_id, l.region, x.scheme_version, x.drg, x.adrg, x.mdc, x.status,
                   x.kind
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(list_id bigint, revision int,
                   scheme_id text, scheme_version text, drg text, adrg text, mdc text, status text, kind text),
                 {S}.settlement_list l
            WHERE l.list_id = x.list_id
            ON CONFLICT (list_id, revision, scheme_id) DO UPDATE
               SET scheme_version = excluded.scheme_version, drg = excluded.drg, adrg = excluded.adrg,
                   mdc = excluded.mdc, status = excluded.status, kind = excluded.kind, grouped_time = now()"""),
            {"rows": orjson.dumps([{"list_id": i, "revision": r, "scheme_id": g.scheme_id,
                                    "scheme_version": g.scheme_version, "drg": g.drg, "adrg": g.adrg, "mdc": g.mdc,
                                    "status": g.status, "kind": g.kind} for i, r, g in rows]).decode()})
        await feed.append_regroup_events(self.session, sorted({(i, r) for i, r, _ in rows}))

    async def apply_joins(self, outcomes: Sequence[JoinOutcome], ruleset: str) -> int:
        """Store what joining lists with their settlement records decided, set-based, in the caller's
        transaction (which holds the stays' locks): each list's current revision takes its new facts, findings,
        group and status, with a history entry when the status changes and a feed event where one is due. A
        list whose current revision moved on meanwhile, or that was revoked, is left alone. Returns how many
        lists were changed."""
        if not outcomes:
            return 0
        await self.session.execute(text("""
            CREATE TEMP TABLE join_outcome ON COMMIT DROP AS
            SELECT x.*, CAST(NULL AS text) AS old_status, false AS applies, CAST(NULL AS text) AS region
            FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
              list_id bigint, revision int, status text, record_revision int, total_fen bigint, fund_fen bigint,
              los_days int, sex smallint, age_years int, principal_dx text, findings jsonb, scheme_id text,
              scheme_version text, drg text, adrg text, mdc text, group_status text, group_kind text,
              event_kind text, case_json jsonb, reason text, ruleset text)"""),
            {"rows": orjson.dumps([_outcome_row(o, ruleset) for o in outcomes]).decode()})
        for step in _JOIN_STEPS:
            await self.session.execute(text(step))
        return int((await self.session.execute(text(
            "SELECT count(*) FROM join_outcome WHERE applies AND status IS NOT NULL"))).scalar_one())

    # -- reads -----------------------------------------------------------------------------------------------
    async def find(self, setl_list_id: str = "", fixmedins_code: str = "", setl_id: str = "",
                   revision: int = 0) -> StoredList | None:
        where = "l.setl_list_id = :sid" if setl_list_id else "l.fixmedins_code = :code AND l.setl_id = :setl_id"
        row = (await self.session.execute(text(f"""
            SELECT l.*, r.revision AS rev, r.total_fen, r.body, r.received_time, rv.body AS record
            FROM {S}.settlement_list l JOIN {S}.list_revision r
              ON r.list_id = l.list_id AND r.revision = CASE WHEN :rev > 0 THEN :rev ELSE l.current_revision END
            LEFT JOIN {S}.settlement_record rec ON rec.fixmedins_code = l.fixmedins_code AND rec.setl_id = l.setl_id
            LEFT JOIN {S}.record_revision rv ON rv.record_id = rec.record_id AND rv.revision = r.record_revision
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
                     group.kind) if group else None, history, _json(row.record) if row.record is not None else None)

    async def list_page(self, *, fixmedins_code: str, region: str, period: str, status: str, before: int,
                        limit: int) -> list[StoredList]:
        """Lists newest first (their current revision, most recent group; no body, findings or history)."""
        clauses = ["(:before = 0 OR l.list_id < :before)"]
        for column, value in (("fixmedins_code", fixmedins_code), ("region", region), ("period", period),
                              ("status", status)):
            if value:
                clauses.append(f"l.{column} = :{column}")
        rows = (await self.session.execute(text(f"""
            SELECT l.*, r.total_fen, r.received_time, g.scheme_id, g.scheme_version, g.drg, g.adrg, g.mdc,
                   g.status AS group_status, g.kind AS group_kind
            FROM {S}.settlement_list l
            JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
            LEFT JOIN LATERAL (SELECT * FROM {S}.group_result gr WHERE gr.list_id = l.list_id
                               AND gr.revision = l.current_revision ORDER BY grouped_time DESC LIMIT 1) g ON true
            WHERE {' AND '.join(clauses)} ORDER BY l.list_id DESC LIMIT :limit"""),
            {"fixmedins_code": fixmedins_code, "region": region, "period": period, "status": status,
             "before": before, "limit": limit})).all()
        return [StoredList(
            r.list_id, r.setl_list_id, r.fixmedins_code, r.setl_id, r.psn_no, r.region, r.period, r.status,
            r.current_revision, r.current_revision, r.total_fen, None, r.received_time, [],
            GroupRow(r.scheme_id, r.scheme_version, r.drg, r.adrg, r.mdc, r.group_status, r.group_kind)
            if r.scheme_id else None, []) for r in rows]

    async def pending(self, kind: str, *, region: str, fixmedins_code: str, after: tuple[datetime, int] | None,
                      limit: int) -> list[Any]:
        """Lists waiting for their settlement record (``kind`` LIST), or active records waiting for their list
        (RECORD), oldest first: rows (id, fixmedins_code, setl_id, psn_no, setl_list_id, since)."""
        if kind == "LIST":
            source = f"""SELECT l.list_id AS id, l.fixmedins_code, l.setl_id, l.psn_no, l.setl_list_id,
                                r.received_time AS since
                         FROM {S}.settlement_list l
                         JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
                         WHERE l.status = 'PENDING' AND (:region = '' OR l.region = :region)
                           AND (:code = '' OR l.fixmedins_code = :code)"""
        else:
            source = f"""SELECT rec.record_id AS id, rec.fixmedins_code, rec.setl_id, rec.psn_no, '' AS setl_list_id,
                                rec.updated_time AS since
                         FROM {S}.settlement_record rec
                         WHERE rec.status = 'ACTIVE' AND (:region = '' OR rec.region = :region)
                           AND (:code = '' OR rec.fixmedins_code = :code)
                           AND NOT EXISTS (SELECT 1 FROM {S}.settlement_list l
                                           WHERE l.fixmedins_code = rec.fixmedins_code AND l.setl_id = rec.setl_id)"""
        return list((await self.session.execute(text(f"""
            SELECT * FROM ({source}) p
            WHERE CAST(:after_time AS timestamptz) IS NULL OR (p.since, p.id) > (:after_time, :after_id)
            ORDER BY p.since, p.id LIMIT :limit"""),
            {"region": region, "code": fixmedins_code, "after_time": after[0] if after else None,
             "after_id": after[1] if after else 0, "limit": limit})).all())

    async def pending_totals(self, *, region: str, fixmedins_code: str) -> tuple[int, datetime | None, int,
                                                                                 datetime | None]:
        """(lists waiting, the oldest's since, records waiting, the oldest's since)."""
        lists = (await self.session.execute(text(f"""
            SELECT count(*) AS n, min(r.received_time) AS since FROM {S}.settlement_list l
            JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
            WHERE l.status = 'PENDING' AND (:region = '' OR l.region = :region)
              AND (:code = '' OR l.fixmedins_code = :code)"""),
            {"region": region, "code": fixmedins_code})).one()
        records = (await self.session.execute(text(f"""
            SELECT count(*) AS n, min(rec.updated_time) AS since FROM {S}.settlement_record rec
            WHERE rec.status = 'ACTIVE' AND (:region = '' OR rec.region = :region)
              AND (:code = '' OR rec.fixmedins_code = :code)
              AND NOT EXISTS (SELECT 1 FROM {S}.settlement_list l
                              WHERE l.fixmedins_code = rec.fixmedins_code AND l.setl_id = rec.setl_id)"""),
            {"region": region, "code": fixmedins_code})).one()
        return int(lists.n), lists.since, int(records.n), records.since

    async def upload_statistics(self, *, region: str, since: datetime, until: datetime | None, fixmedins_code: str,
                                after: str, limit: int) -> list[Any]:
        """Per institution of ``region`` (by code, after ``after``): upload attempts received in
        [``since``, ``until``) (stored revisions and rejection records) and those stored without an ERROR finding."""
        return list((await self.session.execute(text(f"""
            WITH attempt AS (
                SELECT l.fixmedins_code AS code,
                       NOT EXISTS (SELECT 1 FROM {S}.list_finding f WHERE f.list_id = r.list_id
                                   AND f.revision = r.revision AND f.severity = 'ERROR') AS passed
                FROM {S}.list_revision r JOIN {S}.settlement_list l ON l.list_id = r.list_id
                WHERE r.region = :region AND l.region = :region AND r.received_time >= :since
                  AND (CAST(:until AS timestamptz) IS NULL OR r.received_time < :until)
                  AND (:code = '' OR l.fixmedins_code = :code) AND l.fixmedins_code COLLATE "C" > :after
                UNION ALL
                SELECT j.fixmedins_code, false FROM {S}.rejection j
                WHERE j.region = :region AND j.received_time >= :since
                  AND (CAST(:until AS timestamptz) IS NULL OR j.received_time < :until)
                  AND (:code = '' OR j.fixmedins_code = :code) AND j.fixmedins_code COLLATE "C" > :after)
            SELECT code AS fixmedins_code, count(*) AS received, count(*) FILTER (WHERE passed) AS passed
            FROM attempt GROUP BY code ORDER BY code COLLATE "C" LIMIT :limit"""),
            {"region": region, "since": since, "until": until, "code": fixmedins_code, "after": after,
             "limit": limit})).all())

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


@dataclass(frozen=True)
class JoinOutcome:
    """What the joiner decided for a list's current revision: a new status (ACTIVE with a group, REJECTED with
    its findings, PENDING when its record was reversed), or ``status`` None when only the record revision it
    has seen changes. ``case`` is the list (joined or not) whose facts the revision and the event take."""

    list_id: int
    revision: int
    status: ListStatus | None
    record_revision: int | None
    case: ParsedList
    findings: tuple[Finding, ...] = ()
    group: GroupRow | None = None
    hospital_level: int = 0
    event: EventKind | None = None
    reason: str = ""
    keep_case: bool = False  # the event repeats the list's last case with the new status (a reversal)


def writer_row(lst: ParsedList, *, key: str | None, digest: str, status: ListStatus, record_revision: int | None,
               group: GroupRow | None, findings: Sequence[Finding], ruleset: str, hospital_level: int,
               rownum: int = 0) -> dict[str, Any]:
    """A list as the writer stores it (``writer.ROW_COLUMNS``)."""
    f = lst.facts
    return {
        "rownum": rownum, "key": key, "digest": digest, "status": status.value,
        "fixmedins_code": lst.fixmedins_code, "setl_id": lst.setl_id, "psn_no": lst.psn_no, "region": lst.region,
        "period": lst.period, "body": orjson.dumps(lst.body).decode(), "total_fen": lst.total_fen,
        "fund_fen": lst.fund_fen, "los_days": f.los_days, "sex": f.sex, "age_years": f.age_years,
        "discharge_date": lst.discharge_date, "discharge_type": f.discharge_type,
        "principal_dx": f.diagnoses[0] if f.diagnoses else "", "record_revision": record_revision,
        "scheme_id": group.scheme_id if group else "", "scheme_version": group.scheme_version if group else "",
        "drg": group.drg if group else "", "adrg": group.adrg if group else "", "mdc": group.mdc if group else "",
        "group_status": group.status if group else "", "group_kind": group.kind if group else "",
        "findings": orjson.dumps([x.to_json() for x in findings]).decode(), "ruleset": ruleset,
        "case_json": orjson.dumps(case_columns(lst, [group] if group else [], hospital_level)).decode(),
    }


def _outcome_row(o: JoinOutcome, ruleset: str) -> dict[str, Any]:
    f, g = o.case.facts, o.group
    return {
        "list_id": o.list_id, "revision": o.revision, "status": o.status.value if o.status else None,
        "record_revision": o.record_revision, "total_fen": o.case.total_fen, "fund_fen": o.case.fund_fen,
        "los_days": f.los_days, "sex": f.sex, "age_years": f.age_years,
        "principal_dx": f.diagnoses[0] if f.diagnoses else "", "findings": [x.to_json() for x in o.findings],
        "scheme_id": g.scheme_id if g else "", "scheme_version": g.scheme_version if g else "",
        "drg": g.drg if g else "", "adrg": g.adrg if g else "", "mdc": g.mdc if g else "",
        "group_status": g.status if g else "", "group_kind": g.kind if g else "",
        "event_kind": o.event.value if o.event else None,
        "case_json": case_columns(o.case, [g] if g else [], o.hospital_level) if o.event and not o.keep_case
        else None,
        "reason": o.reason, "ruleset": ruleset,
    }


_JOIN_STEPS = (
    f"""UPDATE join_outcome o SET old_status = l.status, region = l.region,
               applies = l.current_revision = o.revision AND l.status <> 'REVOKED'
        FROM {S}.settlement_list l WHERE l.list_id = o.list_id""",
    "DELETE FROM join_outcome WHERE NOT applies",
    f"""UPDATE {S}.settlement_list l SET status = o.status, updated_time = now()
        FROM join_outcome o WHERE l.list_id = o.list_id AND o.status IS NOT NULL AND l.status <> 'REVOKED'""",
    f"""UPDATE {S}.list_revision r SET record_revision = o.record_revision,
               ruleset = CASE WHEN o.status IS NULL THEN r.ruleset ELSE o.ruleset END,
               total_fen = CASE WHEN o.status IS NULL THEN r.total_fen ELSE o.total_fen END,
               fund_fen = CASE WHEN o.status IS NULL THEN r.fund_fen ELSE o.fund_fen END,
               los_days = CASE WHEN o.status IS NULL THEN r.los_days ELSE o.los_days END,
               sex = CASE WHEN o.status IS NULL THEN r.sex ELSE o.sex END,
               age_years = CASE WHEN o.status IS NULL THEN r.age_years ELSE o.age_years END,
               principal_dx = CASE WHEN o.status IS NULL THEN r.principal_dx ELSE o.principal_dx END
        FROM join_outcome o WHERE r.list_id = o.list_id AND r.revision = o.revision""",
    f"""DELETE FROM {S}.list_finding f USING join_outcome o
        WHERE f.list_id = o.list_id AND f.revision = o.revision AND o.status IS NOT NULL""",
    writer.insert_findings("SELECT * FROM join_outcome WHERE status IS NOT NULL"),
    f"""DELETE FROM {S}.group_result g USING join_outcome o
        WHERE g.list_id = o.list_id AND g.revision = o.revision AND o.status IS NOT NULL""",
    writer.insert_groups("SELECT * FROM join_outcome WHERE status IS NOT NULL"),
    writer.insert_history("SELECT * FROM join_outcome WHERE status IS NOT NULL AND status IS DISTINCT FROM old_status",
                          "x.reason"),
    feed.append_from_json(kind="o.event_kind", list_id="o.list_id", setl_list_id="l.setl_list_id",
                          revision="o.revision", status="coalesce(o.status, o.old_status)", content="o.case_json",
                          source=f"join_outcome o JOIN {S}.settlement_list l ON l.list_id = o.list_id")
    + " WHERE o.event_kind IS NOT NULL AND o.case_json IS NOT NULL ORDER BY o.list_id",
    feed.append_copies(kind="o.event_kind", status="coalesce(o.status, o.old_status)", source="join_outcome o",
                       list_id="o.list_id")
    + " WHERE o.event_kind IS NOT NULL AND o.case_json IS NULL ORDER BY o.list_id",
)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value




