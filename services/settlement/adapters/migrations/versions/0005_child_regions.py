"""A run's case results and hospital statements carry the run's region (README "Scaling past one machine"): the
distribution column of a region-distributed layout, filled from the run on stored rows.

Revision ID: 0005
"""
from libs.common.db.region import add_region, drop_region

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "settlement"
CHILDREN = ("case_result", "hospital_statement")


def upgrade() -> None:
    for table in CHILDREN:
        add_region(S, table, f"r.region FROM {S}.settlement_run r WHERE r.run_id = t.run_id")


def downgrade() -> None:
    for table in CHILDREN:
        drop_region(S, table)
