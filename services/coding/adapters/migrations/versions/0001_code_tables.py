"""Code systems, versions and codes.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "coding"


def upgrade() -> None:
    op.create_table(
        "code_system",
        sa.Column("system_id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("is_map", sa.Boolean, nullable=False, server_default="false"),
        schema=S)
    op.create_table(
        "code_version",
        sa.Column("version_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("system_id", sa.Text, sa.ForeignKey(f"{S}.code_system.system_id"), nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("effective_start", sa.Date, nullable=False),
        sa.Column("effective_end", sa.Date),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("code_count", sa.Integer, nullable=False),
        sa.Column("loaded_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("system_id", "version", name="code_version_system_version_key"),
        schema=S)
    op.create_table(
        "code",
        sa.Column("version_id", sa.BigInteger, sa.ForeignKey(f"{S}.code_version.version_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("retired", sa.Boolean, nullable=False, server_default="false"),
        schema=S)
    # ListCodes filters by name substring (Chinese included): a plain LIKE scan per version is fast at
    # these sizes (33k rows); prefix filters use the primary key (version_id, code) with text_pattern_ops.
    op.create_index("code_prefix_idx", "code", ["version_id", sa.text("code text_pattern_ops")], schema=S)


def downgrade() -> None:
    op.drop_table("code", schema=S)
    op.drop_table("code_version", schema=S)
    op.drop_table("code_system", schema=S)
