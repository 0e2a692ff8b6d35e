"""Fee details (2301/2302): uploads, lines (revoked ones kept), one summary row per stay; and an index to find a
stay's list from its (institution, mdtrt_id).

Revision ID: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    op.create_table(
        "fee_upload",
        sa.Column("upload_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("infno", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_table(
        "fee_detail",
        sa.Column("detail_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("upload_id", sa.BigInteger, nullable=False),
        sa.Column("revoked_by", sa.BigInteger),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("feedetl_sn", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("med_type", sa.Text, nullable=False),
        sa.Column("fee_time", sa.Text, nullable=False),
        sa.Column("med_list_codg", sa.Text, nullable=False),
        sa.Column("medins_list_codg", sa.Text, nullable=False),
        sa.Column("med_chrgitm_type", sa.Text, nullable=False),
        sa.Column("cnt", sa.BigInteger, nullable=False),
        sa.Column("pric", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("bilg_dept_codg", sa.Text, nullable=False),
        sa.Column("bilg_dr_codg", sa.Text, nullable=False),
        sa.Column("init_feedetl_sn", sa.Text, nullable=False),
        schema=S)
    op.create_index("fee_detail_stay_idx", "fee_detail", ["fixmedins_code", "mdtrt_id", "detail_id"], schema=S)
    op.create_index("fee_detail_current_sn_key", "fee_detail", ["fixmedins_code", "mdtrt_id", "feedetl_sn"],
                    unique=True, schema=S, postgresql_where=sa.text("revoked_by IS NULL"))
    op.create_table(
        "fee_stay",
        sa.Column("fixmedins_code", sa.Text, primary_key=True),
        sa.Column("mdtrt_id", sa.Text, primary_key=True),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("findings", JSONB, nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_index("case_event_stay_idx", "case_event", ["fixmedins_code", "mdtrt_id", "event_id"], schema=S)


def downgrade() -> None:
    op.drop_index("case_event_stay_idx", "case_event", schema=S)
    op.drop_table("fee_stay", schema=S)
    op.drop_table("fee_detail", schema=S)
    op.drop_table("fee_upload", schema=S)
