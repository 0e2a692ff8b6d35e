"""A flag's events carry the flag's region (README "Scaling past one machine"): the distribution column of a
region-distributed layout, filled from the flag on stored rows.

Revision ID: r0003
"""
from libs.common.db.region import add_region, drop_region

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

S = "review"


def upgrade() -> None:
    add_region(S, "flag_event", f"f.region FROM {S}.flag f WHERE f.flag_id = t.flag_id")


def downgrade() -> None:
    drop_region(S, "flag_event")
