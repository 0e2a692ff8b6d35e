"""The one writer of settlement lists: every statement that stores a list, its revision, group, findings, status
history and feed event is built here, over *rows* of one shape, whatever brings them:

- an upload: one row of bound parameters, stored with its idempotency key and response in one statement
  (``store_one``);
- a bulk import: the rejection records and list rows of free keys, sent as arrays, wave by wave
  (``bulk_rejections``, ``bulk_lists``), the rest of each stored list and its key COPYed into the columns these
  statements write (``COPIED``);
- the joiner: rows of outcomes for revisions already stored (``join_steps``).

A row has the columns of ``ROW_COLUMNS`` (its ``region`` is written on every row of the list's tables); after
the list upsert it also has ``list_id``, ``setl_list_id``, ``revision`` and ``had_events`` (whether the list was
in the feed before).
"""

from __future__ import annotations

from libs.common.db.region import institution_region

from . import feed
from .tables import SCHEMA

S = SCHEMA

ROW_COLUMNS = (
    ("rownum", "int"), ("key", "text"), ("digest", "text"), ("status", "text"), ("fixmedins_code", "text"),
    ("setl_id", "text"), ("psn_no", "text"), ("region", "text"), ("period", "text"), ("body", "jsonb"),
    ("total_fen", "bigint"), ("fund_fen", "bigint"), ("los_days", "int"), ("sex", "smallint"),
    ("age_years", "int"), ("discharge_date", "date"), ("discharge_type", "text"), ("principal_dx", "text"),
    ("record_revision", "int"), ("scheme_id", "text"), ("scheme_version", "text"), ("drg", "text"), ("adrg", "text"),
    ("mdc", "text"), ("group_status", "text"), ("group_kind", "text"), ("findings", "jsonb"), ("ruleset", "text"),
    ("case_json", "jsonb"))
"""What a list to store carries: its identity and status, the revision's body and facts, its group (scheme_id ''
when none), its findings and its feed case."""

UPLOAD_REASON = ("(CASE WHEN {r}.revision = 1 THEN '{first}' ELSE 'revision ' || {r}.revision END) "
                 "|| CASE WHEN {r}.status = 'PENDING' THEN ', waiting for its settlement record' ELSE '' END")


def upsert_lists(rows: str) -> str:
    """Create each list, or count a new revision of it (and take the row's status), in row order; returns the
    list's id, platform id and current revision."""
    return f"""
        INSERT INTO {S}.settlement_list (list_id, setl_list_id, fixmedins_code, setl_id, psn_no, region, period,
                                         status, current_revision)
        SELECT id, region || 'L' || to_char(now(), 'YYYYMMDD') || lpad(id::text, 8, '0'), fixmedins_code, setl_id,
               psn_no, region, period, status, 1
        FROM (SELECT nextval('{S}.list_id_seq') AS id, * FROM ({rows}) x ORDER BY rownum) n
        ON CONFLICT (fixmedins_code, setl_id) DO UPDATE
           SET current_revision = {S}.settlement_list.current_revision + 1, psn_no = excluded.psn_no,
               period = excluded.period, status = excluded.status, updated_time = now()
        RETURNING list_id, setl_list_id, fixmedins_code, setl_id, current_revision"""


def had_events(list_id: str) -> str:
    """Whether the list was in the feed before this statement."""
    return f"EXISTS (SELECT 1 FROM {S}.case_event e WHERE e.list_id = {list_id})"


def insert_revisions(rows: str) -> str:
    return f"""
        INSERT INTO {S}.list_revision (list_id, revision, region, idempotency_key, digest, body, ruleset, total_fen,
                                       fund_fen, los_days, sex, age_years, discharge_date, discharge_type,
                                       principal_dx, record_revision)
        SELECT list_id, revision, region, key, digest, body, ruleset, total_fen, fund_fen, los_days, sex, age_years,
               discharge_date, discharge_type, principal_dx, record_revision FROM ({rows}) x"""


def insert_groups(rows: str) -> str:
    return f"""
        INSERT INTO {S}.group_result (list_id, revision, scheme_id, region, scheme_version, drg, adrg, mdc, status,
                                      kind)
        SELECT list_id, revision, scheme_id, region, scheme_version, drg, adrg, mdc, group_status, group_kind
        FROM ({rows}) x WHERE scheme_id <> ''"""


def insert_findings(rows: str) -> str:
    return f"""
        INSERT INTO {S}.list_finding (list_id, region, revision, code, severity, field, message_zh, message_en)
        SELECT x.list_id, x.region, x.revision, f.code, f.severity, f.field, f.message_zh, f.message_en
        FROM ({rows}) x, jsonb_to_recordset(x.findings)
             AS f(code text, severity text, field text, message_zh text, message_en text)"""


def insert_history(rows: str, reason: str) -> str:
    """A status-history entry per row; ``reason`` is an SQL expression over the row ``x``."""
    return f"""
        INSERT INTO {S}.status_history (list_id, region, revision, status, reason)
        SELECT list_id, region, revision, status, {reason} FROM ({rows}) x"""


def insert_events(rows: str) -> str:
    """The feed event of each stored row that is a case, or was one before (then it leaves the feed's count)."""
    return feed.append_from_json(
        kind="CASE WHEN x.had_events THEN 'REVISED' ELSE 'ACCEPTED' END", list_id="x.list_id",
        setl_list_id="x.setl_list_id", revision="x.revision", status="x.status", content="x.case_json",
        source=f"({rows}) x") + " WHERE x.status = 'ACTIVE' OR x.had_events ORDER BY x.rownum"


def store_one(pending_id: str, pending_revision: int) -> str:
    """One upload, one statement: the row from bound parameters (``:<column>``), the list and everything of its
    revision, and the idempotency key with the response (a template whose list id and revision stand-ins the
    statement fills in). A taken key fails the statement as a whole."""
    columns = ", ".join(f"CAST(:{name} AS {kind}) AS {name}" for name, kind in ROW_COLUMNS)
    stored = "SELECT * FROM stored"
    return f"""
WITH x AS (SELECT {columns}),
l AS ({upsert_lists("SELECT * FROM x")}),
stored AS (SELECT x.*, l.list_id, l.setl_list_id, l.current_revision AS revision,
                  {had_events("l.list_id")} AS had_events
           FROM x JOIN l ON l.fixmedins_code = x.fixmedins_code AND l.setl_id = x.setl_id),
r AS ({insert_revisions(stored)}),
g AS ({insert_groups(stored)}),
f AS ({insert_findings(stored)}),
h AS ({insert_history(stored, UPLOAD_REASON.format(r="x", first="upload"))}),
e AS ({insert_events(stored)}),
i AS (
  INSERT INTO {S}.idempotency (key, digest, response)
  SELECT s.key, s.digest, CAST(replace(replace(CAST(:template AS text), '"{pending_id}"',
                                               to_json(s.setl_list_id)::text),
                                       '{pending_revision}', s.revision::text) AS jsonb)
  FROM stored s WHERE s.key IS NOT NULL
  RETURNING response)
SELECT s.setl_list_id, s.revision, (SELECT response FROM i) AS response FROM stored s"""


def bulk_rejections(rows: str) -> str:
    """A bulk import's rejection records, from rows of (key, fixmedins_code, setl_id, findings as JSON text)."""
    return f"""INSERT INTO {S}.rejection (idempotency_key, fixmedins_code, region, setl_id, findings)
               SELECT key, fixmedins_code, {institution_region("fixmedins_code")}, setl_id, CAST(findings AS jsonb)
               FROM ({rows}) x"""


def bulk_lists(rows: str) -> str:
    """A bulk import's list rows (``upsert_lists`` of rows of one wave, whose keys are free: a wave never holds the
    same list twice), returning each stored list's id, platform id, stay, revision and whether it was in the feed
    before. The rest of each stored list, and the keys with their responses, are COPYed (``COPIED``)."""
    return f"""WITH l AS ({upsert_lists(rows)})
               SELECT list_id, setl_list_id, fixmedins_code, setl_id, current_revision AS revision,
                      current_revision > 1 AND {had_events("l.list_id")} AS had_events
               FROM l"""


COPIED = {
    "list_revision": ("list_id", "revision", "region", "idempotency_key", "digest", "body", "ruleset", "total_fen",
                      "fund_fen", "los_days", "sex", "age_years", "discharge_date", "discharge_type", "principal_dx",
                      "record_revision"),
    "group_result": ("list_id", "revision", "scheme_id", "region", "scheme_version", "drg", "adrg", "mdc", "status",
                     "kind"),
    "list_finding": ("list_id", "region", "revision", "code", "severity", "field", "message_zh", "message_en"),
    "status_history": ("list_id", "region", "revision", "status", "reason"),
    "case_event": ("kind", "list_id", "setl_list_id", "revision", "status", *feed.CONTENT_COLUMNS),
    "idempotency": ("key", "digest", "response"),
}
"""What a bulk import COPYs of each list ``bulk_lists`` stored, table by table: the columns that
``insert_revisions``, ``insert_groups``, ``insert_findings``, ``insert_history`` and ``insert_events`` write for
an upload (the feed's events in wave and file order, as ``insert_events`` appends them), and the keys with
their responses, complete (a taken key fails the COPY as it fails ``store_one``)."""


def import_reason(revision: int, status: str) -> str:
    """The status-history reason of an imported list: ``UPLOAD_REASON`` with "import", computed here."""
    first = "import" if revision == 1 else f"revision {revision}"
    return first + (", waiting for its settlement record" if status == "PENDING" else "")
