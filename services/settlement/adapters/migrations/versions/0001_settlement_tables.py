"""Settlement: the run framework's table, policies, weight tables, settlement runs, case results and statements.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from libs.common.runs.migration import create_run_table, drop_run_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "settlement"
BYTE_ORDER = sa.Text(collation="C")


def upgrade() -> None:
    create_run_table(S)
    op.create_table(
        "policy",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("parameters_digest", sa.Text, nullable=False),
        sa.Column("group_scheme", sa.Text, nullable=False),
        sa.Column("effective_start", sa.Date, nullable=False),
        sa.Column("effective_end", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("activated_at", sa.DateTime(timezone=True)),
        sa.Column("request_id", sa.Text, nullable=False, server_default=""),
        sa.Column("request_digest", sa.Text, nullable=False, server_default=""),
        schema=S,
    )
    op.create_index("policy_request_idx", "policy", ["region", "request_id"], unique=True, schema=S,
                    postgresql_where=sa.text("request_id <> ''"))
    op.create_table(
        "weight_table",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False, server_default=""),
        sa.Column("policy", sa.Text, nullable=False, server_default=""),
        sa.Column("input_digest", sa.Text, nullable=False),
        sa.Column("feed_sequence", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("base_cases", sa.Integer, nullable=False, server_default="0"),
        sa.Column("avg_all_numerator", sa.Text, nullable=False),
        sa.Column("avg_all_denominator", sa.Text, nullable=False),
        sa.Column("level_basis", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("weight_table_digest_idx", "weight_table", ["region", "year", "input_digest"], unique=True,
                    schema=S)
    op.create_table(
        "weight_group",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("group_code", BYTE_ORDER, primary_key=True),
        sa.Column("kept_cases", sa.Integer, nullable=False),
        sa.Column("rw", sa.Integer, nullable=False),
        sa.Column("standard", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        schema=S,
    )
    op.create_table(
        "settlement_run",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("run_type", sa.Text, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("weight_table", sa.Text, nullable=False),
        sa.Column("feed_sequence", sa.BigInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("hospitals", sa.Integer, nullable=False),
        sa.Column("total_points", sa.BigInteger),
        sa.Column("fund_ratio", sa.BigInteger),
        sa.Column("point_value", sa.BigInteger),
        sa.Column("provisional_point_value", sa.BigInteger),
        sa.Column("totals", JSONB, nullable=False),
        sa.Column("statements_digest", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("settlement_run_region_period_idx", "settlement_run", ["region", "period", "created_at"],
                    schema=S)
    op.create_table(
        "case_result",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("setl_list_id", BYTE_ORDER, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("month", sa.Text, nullable=False),
        sa.Column("group_code", sa.Text, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("rw", sa.Integer),
        sa.Column("base_points", sa.BigInteger),
        sa.Column("points", sa.BigInteger),
        sa.Column("standard", sa.BigInteger),
        sa.Column("basis", sa.BigInteger),
        sa.Column("fund_due", sa.BigInteger),
        sa.Column("halved", sa.Boolean, nullable=False),
        sa.Column("total_cost", sa.BigInteger, nullable=False),
        sa.Column("terms", JSONB, nullable=False),
        schema=S,
    )
    op.create_index("case_result_hospital_idx", "case_result", ["run_id", "fixmedins_code"], schema=S)
    op.create_table(
        "hospital_statement",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("fixmedins_code", BYTE_ORDER, primary_key=True),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("points", sa.BigInteger),
        sa.Column("cmi", sa.Integer, nullable=False),
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("assessed", sa.BigInteger, nullable=False),
        sa.Column("advances", sa.BigInteger, nullable=False),
        sa.Column("adjustments", sa.BigInteger, nullable=False),
        sa.Column("deductions", sa.BigInteger, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("surplus", sa.BigInteger),
        sa.Column("months", JSONB, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for table in ("hospital_statement", "case_result", "settlement_run", "weight_group", "weight_table", "policy"):
        op.drop_table(table, schema=S)
    drop_run_table(S)
