"""Settlement records from the core system (2304, revisions, 2305 reversals), the join queue, pending lists.

Revision ID: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    op.create_table(
        "settlement_record",
        sa.Column("record_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("current_revision", sa.Integer, nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("fixmedins_code", "setl_id", name="settlement_record_institution_setl_key"),
        schema=S)
    op.create_index("settlement_record_active_idx", "settlement_record", ["region", "record_id"], schema=S,
                    postgresql_where=sa.text("status = 'ACTIVE'"))
    op.create_table(
        "record_revision",
        sa.Column("record_id", sa.BigInteger, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("infno", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "join_task",
        sa.Column("task_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.add_column("list_revision", sa.Column("record_revision", sa.Integer), schema=S)
    op.add_column("import_job", sa.Column("kind", sa.Text, nullable=False, server_default="lists"), schema=S)
    op.add_column("import_job", sa.Column("pending", sa.BigInteger, nullable=False, server_default="0"), schema=S)
    op.create_index("settlement_list_pending_idx", "settlement_list", ["list_id"], schema=S,
                    postgresql_where=sa.text("status = 'PENDING'"))


def downgrade() -> None:
    op.drop_index("settlement_list_pending_idx", "settlement_list", schema=S)
    op.drop_column("import_job", "pending", schema=S)
    op.drop_column("import_job", "kind", schema=S)
    op.drop_column("list_revision", "record_revision", schema=S)
    for table in ("join_task", "record_revision", "settlement_record"):
        op.drop_table(table, schema=S)
