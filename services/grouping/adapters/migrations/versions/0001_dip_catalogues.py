"""DIP catalogue versions: published once, never changed.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "grouping"


def upgrade() -> None:
    op.create_table(
        "dip_catalogue_version",
        sa.Column("scheme_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("surgery_digest", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("threshold", sa.Integer),
        sa.Column("base_periods", ARRAY(sa.Text), nullable=False),
        sa.Column("as_of_sequence", sa.BigInteger, nullable=False),
        sa.Column("cases_read", sa.BigInteger, nullable=False),
        sa.Column("cases_skipped", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("group_count", sa.Integer, nullable=False),
        sa.Column("core_group_count", sa.Integer, nullable=False),
        sa.Column("case_count", sa.BigInteger, nullable=False),
        sa.Column("core_case_count", sa.BigInteger, nullable=False),
        sa.Column("catalogue_tsv", sa.LargeBinary, nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("version >= 1", name="dip_catalogue_version_positive"),
        sa.CheckConstraint("source IN ('upload', 'feed', 'import')", name="dip_catalogue_version_source"),
        schema=S)
    op.execute(f"""
        CREATE FUNCTION {S}.dip_catalogue_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'DIP catalogue versions are immutable once published (% %)', OLD.scheme_id, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
        END $$""")
    op.execute(f"""
        CREATE TRIGGER dip_catalogue_version_immutable BEFORE UPDATE OR DELETE ON {S}.dip_catalogue_version
        FOR EACH ROW EXECUTE FUNCTION {S}.dip_catalogue_version_immutable()""")


def downgrade() -> None:
    op.drop_table("dip_catalogue_version", schema=S)
    op.execute(f"DROP FUNCTION {S}.dip_catalogue_version_immutable()")
