"""Settlement lists with revisions, findings, groups, status history; idempotency and rejections; imports.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    op.execute(f"CREATE SEQUENCE {S}.list_id_seq")
    op.create_table(
        "settlement_list",
        sa.Column("list_id", sa.BigInteger, primary_key=True),
        sa.Column("setl_list_id", sa.Text, nullable=False, unique=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("updated_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("fixmedins_code", "setl_id", name="settlement_list_institution_setl_key"),
        schema=S)
    # The query patterns: by region and period (feeds, reports), by institution and period, by person.
    op.create_index("settlement_list_region_period_idx", "settlement_list", ["region", "period", "status"], schema=S)
    op.create_index("settlement_list_institution_period_idx", "settlement_list", ["fixmedins_code", "period"],
                    schema=S)
    op.create_index("settlement_list_psn_idx", "settlement_list", ["psn_no"], schema=S)
    op.create_table(
        "list_revision",
        sa.Column("list_id", sa.BigInteger, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("ruleset", sa.Text, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("fund_fen", sa.BigInteger, nullable=False),
        sa.Column("los_days", sa.Integer),
        sa.Column("sex", sa.SmallInteger),
        sa.Column("age_years", sa.Integer),
        sa.Column("discharge_date", sa.Date),
        sa.Column("discharge_type", sa.Text, nullable=False),
        sa.Column("principal_dx", sa.Text, nullable=False),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "list_finding",
        sa.Column("list_id", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("message_zh", sa.Text, nullable=False),
        sa.Column("message_en", sa.Text, nullable=False),
        schema=S)
    op.create_index("list_finding_list_idx", "list_finding", ["list_id", "revision"], schema=S)
    op.create_table(
        "group_result",
        sa.Column("list_id", sa.BigInteger, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("scheme_id", sa.Text, primary_key=True),
        sa.Column("scheme_version", sa.Text, nullable=False),
        sa.Column("drg", sa.Text, nullable=False),
        sa.Column("adrg", sa.Text, nullable=False),
        sa.Column("mdc", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("grouped_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "status_history",
        sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("list_id", sa.BigInteger, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("change_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_index("status_history_list_idx", "status_history", ["list_id"], schema=S)
    op.create_table(
        "idempotency",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("response", JSONB),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "rejection",
        sa.Column("rejection_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("findings", JSONB, nullable=False),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "import_job",
        sa.Column("file_digest", sa.Text, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("lines_done", sa.BigInteger, nullable=False),
        sa.Column("accepted", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("finished", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)


def downgrade() -> None:
    for table in ("import_job", "rejection", "idempotency", "status_history", "group_result", "list_finding",
                  "list_revision", "settlement_list"):
        op.drop_table(table, schema=S)
    op.execute(f"DROP SEQUENCE {S}.list_id_seq")
