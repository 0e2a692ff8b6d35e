"""DIP catalogue builds: the run table of the run framework and the uploaded histories they read.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from libs.common.runs.migration import create_run_table, drop_run_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "grouping"


def upgrade() -> None:
    create_run_table(S)
    op.create_table(
        "dip_build_upload",
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)


def downgrade() -> None:
    op.drop_table("dip_build_upload", schema=S)
    drop_run_table(S)
