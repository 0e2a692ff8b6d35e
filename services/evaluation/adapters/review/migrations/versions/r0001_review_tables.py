"""Smart review: knowledge versions and items, rule sets and rule versions, review runs, flags and their
workflow, the stays projected from the case feed.

Revision ID: r0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from libs.common.runs.migration import create_run_table, drop_run_table

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

S = "review"


def upgrade() -> None:
    create_run_table(S)
    op.create_table(
        "knowledge_version",
        sa.Column("version_id", sa.Text, primary_key=True),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("items_csv", sa.Text, nullable=False),
        sa.Column("creator", sa.Text, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "knowledge_item",
        sa.Column("version_id", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("med_chrgitm_type", sa.Text, nullable=False),
        sa.Column("price", sa.Text, nullable=False),
        sa.Column("sex_limit", sa.SmallInteger, nullable=False),
        sa.Column("min_age", sa.SmallInteger),
        sa.Column("max_age", sa.SmallInteger),
        sa.Column("max_daily_cnt", sa.Text, nullable=False),
        sa.Column("exclusive_with", ARRAY(sa.Text), nullable=False),
        schema=S)
    op.create_table(
        "rule_set",
        sa.Column("ruleset_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("source", sa.LargeBinary, nullable=False),
        sa.Column("source_format", sa.Text, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("creator", sa.Text, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("activate_time", sa.DateTime(timezone=True)),
        sa.Column("activation", sa.Text, nullable=False, server_default=""),
        schema=S)
    op.create_index("rule_set_one_active", "rule_set", ["active"], unique=True, schema=S,
                    postgresql_where=sa.text("active"))
    op.create_table(
        "rule_version",
        sa.Column("rule_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("first_rule_set", sa.Text, nullable=False),
        schema=S)
    op.create_table(
        "review_run",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("rule_set", sa.Text, nullable=False),
        sa.Column("as_of_sequence", sa.BigInteger, nullable=False),
        sa.Column("list_count", sa.Integer, nullable=False),
        sa.Column("lists_with_details", sa.Integer, nullable=False),
        sa.Column("flag_count", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("knowledge_versions", ARRAY(sa.Text), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "run_rule",
        sa.Column("run_name", sa.Text, primary_key=True),
        sa.Column("rule_id", sa.Text, primary_key=True),
        sa.Column("rule_version", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("lists_reviewed", sa.Integer, nullable=False),
        schema=S)
    op.create_table(
        "flag",
        sa.Column("flag_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("run_name", sa.Text, nullable=False),
        sa.Column("rule_set", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Text, nullable=False),
        sa.Column("rule_version", sa.Text, nullable=False),
        sa.Column("rule_name", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("found_fen", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("related_setl_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("run_name", "fingerprint", name="flag_run_fingerprint_key"),
        schema=S)
    op.create_index("flag_region_period_idx", "flag", ["region", "period", "fixmedins_code", "flag_id"], schema=S)
    op.create_index("flag_rule_idx", "flag", ["rule_id", "rule_version", "state"], schema=S)
    op.create_table(
        "flag_event",
        sa.Column("event_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("flag_id", sa.BigInteger, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("verdict", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("amount_fen", sa.BigInteger),
        sa.Column("state_after", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.Column("digest", sa.Text, nullable=False, server_default=""),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_index("flag_event_flag_idx", "flag_event", ["flag_id", "event_id"], schema=S)
    op.create_index("flag_event_request_key", "flag_event", ["request_id"], unique=True, schema=S,
                    postgresql_where=sa.text("request_id IS NOT NULL"))
    op.create_table(
        "stay",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("setl_id", sa.Text, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("adm_date", sa.Date),
        sa.Column("dscg_date", sa.Date),
        sa.Column("dscg_way", sa.Text, nullable=False),
        sa.Column("dept", sa.Text, nullable=False),
        sa.Column("doctor", sa.Text, nullable=False),
        sa.Column("sex", sa.SmallInteger),
        sa.Column("age_years", sa.Integer),
        sa.Column("diagnoses", ARRAY(sa.Text), nullable=False),
        sa.Column("procedures", ARRAY(sa.Text), nullable=False),
        sa.Column("drg", sa.Text, nullable=False),
        sa.Column("adrg", sa.Text, nullable=False),
        sa.Column("mdc", sa.Text, nullable=False),
        sa.Column("total_fen", sa.BigInteger),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        schema=S)
    op.create_index("stay_person_idx", "stay", ["fixmedins_code", "psn_no"], schema=S)
    op.create_table(
        "feed_cursor",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("after_sequence", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)


def downgrade() -> None:
    for table in ("feed_cursor", "stay", "flag_event", "flag", "run_rule", "review_run", "rule_version", "rule_set",
                  "knowledge_item", "knowledge_version"):
        op.drop_table(table, schema=S)
    drop_run_table(S)
