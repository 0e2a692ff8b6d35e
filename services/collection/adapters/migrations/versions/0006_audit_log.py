"""The audit log: who changed a settlement list's status, when, under which request (append-only).

Revision ID: 0006
"""
from libs.common.audit import create_audit_table, drop_audit_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table("collection")


def downgrade() -> None:
    drop_audit_table("collection")
