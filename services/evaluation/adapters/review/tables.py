"""Smart review's tables, in its own PostgreSQL schema ``review`` (its own Alembic history)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
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
from libs.common.runs import run_table

SCHEMA = "review"
metadata = MetaData(schema=SCHEMA)
run = run_table(metadata)
audit = audit_table(metadata)
"""Who activated a rule set or took a flag's review step (libs/common/audit.py)."""
"""The run framework's table: review runs as long-running operations."""

knowledge_version = Table(
    "knowledge_version", metadata,
    Column("version_id", Text, primary_key=True),
    Column("effective_date", Date, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("digest", Text, nullable=False),
    Column("items_csv", Text, nullable=False),         # the file as imported: the library is rebuilt from it
    Column("creator", Text, nullable=False),
    Column("create_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

knowledge_item = Table(
    "knowledge_item", metadata,
    Column("version_id", Text, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("med_chrgitm_type", Text, nullable=False),
    Column("price", Text, nullable=False),
    Column("sex_limit", SmallInteger, nullable=False),
    Column("min_age", SmallInteger),
    Column("max_age", SmallInteger),
    Column("max_daily_cnt", Text, nullable=False),
    Column("exclusive_with", ARRAY(Text), nullable=False),
)

rule_set = Table(
    "rule_set", metadata,
    Column("ruleset_id", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("source", LargeBinary, nullable=False),
    Column("source_format", Text, nullable=False),     # TOML or JSON
    Column("document", JSONB, nullable=False),         # the canonical document
    Column("digest", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("creator", Text, nullable=False),
    Column("create_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("active", Boolean, nullable=False, server_default=text("false")),
    Column("activate_time", DateTime(timezone=True)),
    Column("activation", Text, nullable=False, server_default=""),
    Index("rule_set_one_active", "active", unique=True, postgresql_where=text("active")),
)

rule_version = Table(
    # Every (rule id, rule version) ever stored, with its parameters: a version's meaning never changes, so flags
    # and statistics per rule version stay comparable.
    "rule_version", metadata,
    Column("rule_id", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("first_rule_set", Text, nullable=False),
)

review_run = Table(
    "review_run", metadata,
    Column("name", Text, primary_key=True),             # regions/{region}/reviewRuns/{period}~{set}~{version}
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),             # "yyyy-MM" or "yyyy"
    Column("rule_set", Text, nullable=False),           # ruleSets/{id}/versions/{version}
    Column("as_of_sequence", BigInteger, nullable=False),
    Column("list_count", Integer, nullable=False),
    Column("lists_with_details", Integer, nullable=False),
    Column("flag_count", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("knowledge_versions", ARRAY(Text), nullable=False),
    Column("end_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

run_rule = Table(
    # Which rule versions a run applied, and to how many lists: the denominator of activity.
    "run_rule", metadata,
    Column("run_name", Text, primary_key=True),
    Column("rule_id", Text, primary_key=True),
    Column("rule_version", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("lists_reviewed", Integer, nullable=False),
)

flag = Table(
    "flag", metadata,
    Column("flag_id", BigInteger, Identity(), primary_key=True),
    Column("region", Text, nullable=False),
    Column("run_name", Text, nullable=False),
    Column("rule_set", Text, nullable=False),
    Column("fixmedins_code", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("mdtrt_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("period", Text, nullable=False),             # the list's settlement month "yyyy-MM"
    Column("rule_id", Text, nullable=False),
    Column("rule_version", Text, nullable=False),
    Column("rule_name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("found_fen", BigInteger, nullable=False),    # the money at stake the rule found
    Column("amount_fen", BigInteger, nullable=False),   # what a confirmation deducts (a reviewer may lower it)
    Column("evidence", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("related_setl_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("create_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("run_name", "fingerprint", name="flag_run_fingerprint_key"),
    Index("flag_region_period_idx", "region", "period", "fixmedins_code", "flag_id"),
    Index("flag_rule_idx", "rule_id", "rule_version", "state"),
)

flag_event = Table(
    "flag_event", metadata,
    Column("event_id", BigInteger, Identity(), primary_key=True),
    Column("flag_id", BigInteger, nullable=False),
    Column("region", Text, nullable=False),  # the flag's
    Column("step", Text, nullable=False),
    Column("verdict", Text),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("amount_fen", BigInteger),
    Column("state_after", Text, nullable=False),
    Column("request_id", Text),
    Column("digest", Text, nullable=False, server_default=""),
    Column("event_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("flag_event_flag_idx", "flag_id", "event_id"),
    Index("flag_event_request_key", "request_id", unique=True, postgresql_where=text("request_id IS NOT NULL")),
)

stay = Table(
    # The collected cases as review needs them between runs (a person's earlier stays for CheckStay), kept current
    # from the collection service's case feed; ``feed_cursor`` holds where the consumer is.
    "stay", metadata,
    Column("fixmedins_code", Text, primary_key=True),
    Column("setl_id", Text, primary_key=True),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("mdtrt_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("adm_date", Date),
    Column("dscg_date", Date),
    Column("dscg_way", Text, nullable=False),
    Column("dept", Text, nullable=False),
    Column("doctor", Text, nullable=False),
    Column("sex", SmallInteger),
    Column("age_years", Integer),
    Column("diagnoses", ARRAY(Text), nullable=False),
    Column("procedures", ARRAY(Text), nullable=False),
    Column("drg", Text, nullable=False),
    Column("adrg", Text, nullable=False),
    Column("mdc", Text, nullable=False),
    Column("total_fen", BigInteger),
    Column("sequence", BigInteger, nullable=False),
    Index("stay_person_idx", "fixmedins_code", "psn_no"),
)

feed_cursor = Table(
    "feed_cursor", metadata,
    Column("region", Text, primary_key=True),
    Column("after_sequence", BigInteger, nullable=False),
    Column("update_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
