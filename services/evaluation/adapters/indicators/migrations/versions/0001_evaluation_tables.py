"""Evaluation runs (the run framework's table) and their results: indicators per unit (whole period and per
month) and group profiles.

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

S = "evaluation"
BYTE_ORDER = sa.Text(collation="C")


def figure(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Numeric(18, 4), nullable=nullable)


def upgrade() -> None:
    create_run_table(S)
    op.create_table(
        "evaluation_run",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("period_kind", sa.Text, nullable=False),
        sa.Column("feed_sequence", sa.BigInteger, nullable=False),
        sa.Column("settlement_run", sa.Text, nullable=False, server_default=""),
        sa.Column("weights_version", sa.Text, nullable=False, server_default=""),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("hospitals", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("evaluation_run_region_period_idx", "evaluation_run", ["region", "period", "created_at"],
                    schema=S)
    op.create_table(
        "indicator",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("unit", BYTE_ORDER, primary_key=True),
        sa.Column("hospital", sa.Text),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("hospital_level", sa.SmallInteger),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("grouped", sa.Integer, nullable=False),
        figure("grouping_rate", nullable=False),
        sa.Column("drg_count", sa.Integer, nullable=False),
        figure("total_weight", nullable=False),
        figure("cmi"),
        figure("time_index"),
        figure("cost_index"),
        sa.Column("low_risk_cases", sa.Integer, nullable=False),
        sa.Column("low_risk_deaths", sa.Integer, nullable=False),
        figure("low_risk_mortality"),
        figure("readmit15_rate", nullable=False),
        sa.Column("quadrant", sa.Text),
        sa.Column("lists_received", sa.Integer),
        sa.Column("lists_accepted", sa.Integer),
        figure("qc_pass_rate"),
        sa.Column("uploaded_in_time", sa.Integer),
        figure("timeliness"),
        figure("high_outlier_share"),
        figure("low_outlier_share"),
        sa.Column("special_cases", sa.Integer),
        sa.Column("surplus_fen", sa.BigInteger),
        figure("review_flags_per_1000"),
        sa.Column("review_confirmed_fen", sa.BigInteger),
        schema=S,
    )
    op.create_index("indicator_hospital_idx", "indicator", ["run_id", "hospital", "month", "level", "unit"],
                    schema=S)
    op.create_table(
        "group_profile",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("group_code", BYTE_ORDER, primary_key=True),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("deaths", sa.Integer, nullable=False),
        figure("rw"),
        figure("mean_los", nullable=False),
        sa.Column("mean_cost_fen", sa.BigInteger, nullable=False),
        figure("cost_cv"),
        figure("mortality", nullable=False),
        figure("z_score"),
        sa.Column("band", sa.Text),
        sa.Column("low_risk", sa.Boolean, nullable=False),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("group_profile", schema=S)
    op.drop_table("indicator", schema=S)
    op.drop_table("evaluation_run", schema=S)
    drop_run_table(S)
