"""A run's indicators and group profiles carry the run's region (README "Scaling past one machine"): the
distribution column of a region-distributed layout, filled from the run on stored rows.

Revision ID: 0002
"""
from libs.common.db.region import add_region, drop_region

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "evaluation"
CHILDREN = ("indicator", "group_profile")


def upgrade() -> None:
    for table in CHILDREN:
        add_region(S, table, f"r.region FROM {S}.evaluation_run r WHERE r.run_id = t.run_id")


def downgrade() -> None:
    for table in CHILDREN:
        drop_region(S, table)
