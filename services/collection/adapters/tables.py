"""The collection service's tables, in its own PostgreSQL schema ``collection``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from libs.common.audit import audit_table
from libs.common.runs.table import run_table

SCHEMA = "collection"
metadata = MetaData(schema=SCHEMA)
audit = audit_table(metadata)
"""Who changed a list's status, when, under which request (libs/common/audit.py)."""
"""Every table of the schema (the fee-detail tables are declared beside their repository, adapters/fee_details.py:
``all_tables()`` loads them too)."""

settlement_list = Table(
    "settlement_list", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("setl_list_id", Text, nullable=False, unique=True),
    Column("fixmedins_code", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("current_revision", Integer, nullable=False),
    Column("updated_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("fixmedins_code", "setl_id", name="settlement_list_institution_setl_key"),
    # The query patterns: by region and period (feeds, reports), by institution and period, by person, and
    # what waits for its settlement record.
    Index("settlement_list_region_period_idx", "region", "period", "status"),
    Index("settlement_list_institution_period_idx", "fixmedins_code", "period"),
    Index("settlement_list_psn_idx", "psn_no"),
    Index("settlement_list_pending_idx", "list_id", postgresql_where=text("status = 'PENDING'")),
)

list_revision = Table(
    "list_revision", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("region", Text, nullable=False),  # the list's (every tenant's row carries its region)
    Column("idempotency_key", Text),
    Column("digest", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("ruleset", Text, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("fund_fen", BigInteger, nullable=False),
    Column("los_days", Integer),
    Column("sex", SmallInteger),
    Column("age_years", Integer),
    Column("discharge_date", Date),
    Column("discharge_type", Text, nullable=False),
    Column("principal_dx", Text, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("record_revision", Integer),
)

list_finding = Table(
    "list_finding", metadata,
    Column("list_id", BigInteger, nullable=False),
    Column("region", Text, nullable=False),  # the list's
    Column("revision", Integer, nullable=False),
    Column("code", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Index("list_finding_list_idx", "list_id", "revision"),
)

group_result = Table(
    "group_result", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("scheme_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the list's
    Column("scheme_version", Text, nullable=False),
    Column("drg", Text, nullable=False),
    Column("adrg", Text, nullable=False),
    Column("mdc", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("kind", Text, nullable=False, server_default="DRG"),
    Column("grouped_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

status_history = Table(
    "status_history", metadata,
    Column("change_id", BigInteger, primary_key=True, autoincrement=True),
    Column("list_id", BigInteger, nullable=False),
    Column("region", Text, nullable=False),  # the list's
    Column("revision", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("change_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("status_history_list_idx", "list_id"),
)

idempotency = Table(
    "idempotency", metadata,
    Column("key", Text, primary_key=True),
    Column("digest", Text, nullable=False),
    Column("response", JSONB),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rejection = Table(
    "rejection", metadata,
    Column("rejection_id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text),
    Column("fixmedins_code", Text, nullable=False),
    Column("region", Text, nullable=False),  # the institution's (region_of), '' for a code that is none
    Column("setl_id", Text, nullable=False),
    Column("findings", JSONB, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

run = run_table(metadata)
"""Long-running jobs of the service (libs/common/runs): the file imports, one run per file digest and kind."""

case_event = Table(
    "case_event", metadata,
    # The outbox of the case feed: one row per change of a case, appended in the change's transaction, carrying
    # the whole case after the change. ``sequence`` is assigned at publication, in commit order.
    Column("event_id", BigInteger, Identity(), primary_key=True),
    Column("sequence", BigInteger, unique=True),
    Column("kind", Text, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("list_id", BigInteger, nullable=False),
    Column("setl_list_id", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("fixmedins_code", Text, nullable=False),
    Column("hospital_level", SmallInteger, nullable=False),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("mdtrt_id", Text, nullable=False),
    Column("adm_date", Date),
    Column("dscg_date", Date),
    Column("los_days", Integer),
    Column("dscg_way", Text, nullable=False),
    Column("dept", Text, nullable=False),
    Column("doctor", Text, nullable=False),
    Column("sex", SmallInteger),
    Column("age_years", Integer),
    Column("age_days", Integer),
    Column("birth_weight_g", Integer),
    Column("diagnoses", ARRAY(Text), nullable=False),
    Column("procedures", ARRAY(Text), nullable=False),
    Column("groups", JSONB, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("fund_fen", BigInteger, nullable=False),
    Column("personal_fen", BigInteger, nullable=False),
    Column("insutype", Text, nullable=False),
    Column("money_source", Text, nullable=False),
    Index("case_event_list_idx", "list_id", "event_id"),
    Index("case_event_region_sequence_idx", "region", "sequence"),
    Index("case_event_region_period_idx", "region", "period", "list_id"),
    Index("case_event_unpublished_idx", "event_id", postgresql_where=text("sequence IS NULL")),
    Index("case_event_stay_idx", "fixmedins_code", "mdtrt_id", "event_id"),  # a stay's case, for fee details
)

settlement_record = Table(
    "settlement_record", metadata,
    # A stay's settlement record from the core system (2304), by (institution, setl_id); revisions and 2305
    # reversals are kept in record_revision.
    Column("record_id", BigInteger, Identity(), primary_key=True),
    Column("fixmedins_code", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("mdtrt_id", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("current_revision", Integer, nullable=False),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("fixmedins_code", "setl_id", name="settlement_record_institution_setl_key"),
    Index("settlement_record_active_idx", "region", "record_id", postgresql_where=text("status = 'ACTIVE'")),
)

record_revision = Table(
    "record_revision", metadata,
    Column("record_id", BigInteger, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("region", Text, nullable=False),  # the record's
    Column("infno", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

join_task = Table(
    "join_task", metadata,
    # A (institution, setl_id) whose list and settlement record must be (re)joined: written with a record change
    # in its transaction, removed by the joiner in the transaction that joins them.
    Column("task_id", BigInteger, Identity(), primary_key=True),
    Column("fixmedins_code", Text, nullable=False),
    Column("region", Text, nullable=False),  # the institution's (region_of)
    Column("setl_id", Text, nullable=False),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

gateway_nonce = Table(
    "gateway_nonce", metadata,
    Column("key_id", Text, primary_key=True),
    Column("nonce", Text, primary_key=True),
    Column("seen_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("gateway_nonce_seen_time", "seen_time"),
)


def all_tables() -> MetaData:
    """The schema's metadata with every module's tables on it (what Alembic's autogenerate compares)."""
    from . import fee_details  # noqa: F401 - declares its tables on ``metadata``

    return metadata
