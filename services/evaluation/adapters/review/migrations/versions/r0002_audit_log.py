"""The audit log: who activated a rule set or took a flag's review step, when, under which request (append-only).

Revision ID: r0002
"""
from libs.common.audit import create_audit_table, drop_audit_table

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table("review")


def downgrade() -> None:
    drop_audit_table("review")
