"""The audit log: who activated a policy (and approved special cases), when, under which request (append-only).

Revision ID: 0003
"""
from libs.common.audit import create_audit_table, drop_audit_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table("settlement")


def downgrade() -> None:
    drop_audit_table("settlement")
