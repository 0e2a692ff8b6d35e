"""Every table of a hospital's data carries its region (README "Scaling past one machine"): the distribution
column of a region-distributed layout, which co-locates a join only on it. A list's revisions, findings, groups
and status history take their list's region, a record's revisions their record's; rejections, join tasks and fee
details, whose parent is the institution, its region (the prefecture of its code, as ``region_of``).

Revision ID: 0008
"""
from libs.common.db.region import add_region, drop_region, institution_region

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "collection"
OF_LIST = ("list_revision", "list_finding", "group_result", "status_history")
OF_INSTITUTION = ("rejection", "join_task", "fee_upload", "fee_detail", "fee_stay")


def upgrade() -> None:
    for table in OF_LIST:
        add_region(S, table, f"l.region FROM {S}.settlement_list l WHERE l.list_id = t.list_id")
    add_region(S, "record_revision", f"r.region FROM {S}.settlement_record r WHERE r.record_id = t.record_id")
    for table in OF_INSTITUTION:
        add_region(S, table, institution_region("t.fixmedins_code"))


def downgrade() -> None:
    for table in (*OF_LIST, "record_revision", *OF_INSTITUTION):
        drop_region(S, table)
