"""The national door's shared state: gateway nonces (replays fail after restarts and on every replica) and the
serial blocks that make every inf_refmsgid unique across replicas.

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    op.create_table(
        "gateway_nonce",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("nonce", sa.Text, primary_key=True),
        sa.Column("seen_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S)
    op.create_index("gateway_nonce_seen_time", "gateway_nonce", ["seen_time"], schema=S)
    op.execute(f"CREATE SEQUENCE {S}.door_serial_block_seq")


def downgrade() -> None:
    op.execute(f"DROP SEQUENCE {S}.door_serial_block_seq")
    op.drop_table("gateway_nonce", schema=S)
