"""Policies carry a table of hospital levels for institutions the case feed gives no level (not registered in
the coding service's institution registry); statements count their cases per kind (normal, high, low, by item,
special), the outlier shares of the report.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "settlement"


def upgrade() -> None:
    op.add_column("policy", sa.Column("hospital_levels", JSONB, nullable=False, server_default="{}"), schema=S)
    op.add_column("hospital_statement", sa.Column("case_kinds", JSONB, nullable=False, server_default="{}"),
                  schema=S)


def downgrade() -> None:
    op.drop_column("hospital_statement", "case_kinds", schema=S)
    op.drop_column("policy", "hospital_levels", schema=S)
