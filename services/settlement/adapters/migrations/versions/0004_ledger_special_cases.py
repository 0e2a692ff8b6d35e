"""The ledger (an append-only journal: entries and their lines) and special cases (applications and the history
of their decisions). A trigger refuses UPDATE and DELETE on the journal and on the decision history.

Revision ID: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "settlement"
BYTE_ORDER = sa.Text(collation="C")
APPEND_ONLY = ("ledger_entry", "ledger_line", "special_case_decision")


def upgrade() -> None:
    op.create_table(
        "ledger_entry",
        sa.Column("sequence", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("fixmedins_code", BYTE_ORDER, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("memo", sa.Text, nullable=False),
        sa.Column("reverses", sa.Text, nullable=False, server_default=""),
        sa.Column("posted_by", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("ledger_entry_key_idx", "ledger_entry", ["key"], unique=True, schema=S)
    op.create_index("ledger_entry_region_idx", "ledger_entry", ["region", "sequence"], schema=S)
    op.create_index("ledger_entry_hospital_idx", "ledger_entry", ["region", "fixmedins_code", "sequence"], schema=S)
    op.create_index("ledger_entry_source_idx", "ledger_entry", ["source"], schema=S)
    op.create_index("ledger_entry_reverses_idx", "ledger_entry", ["reverses"], unique=True, schema=S,
                    postgresql_where=sa.text("reverses <> ''"))
    op.create_index("ledger_entry_request_idx", "ledger_entry", ["region", "request_id"], unique=True, schema=S,
                    postgresql_where=sa.text("request_id <> ''"))
    op.create_table(
        "ledger_line",
        sa.Column("entry", sa.BigInteger, sa.ForeignKey(f"{S}.ledger_entry.sequence"), primary_key=True),
        sa.Column("account_id", BYTE_ORDER, primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("fixmedins_code", BYTE_ORDER, nullable=False, server_default=""),
        sa.Column("amount", sa.BigInteger, nullable=False),
        schema=S,
    )
    op.create_index("ledger_line_account_idx", "ledger_line", ["region", "account_id"], schema=S)
    op.create_table(
        "special_case",
        sa.Column("region", sa.Text, primary_key=True),
        sa.Column("setl_list_id", BYTE_ORDER, primary_key=True),
        sa.Column("fixmedins_code", BYTE_ORDER, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False, server_default=""),
        sa.Column("decision_note", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("special_case_year_idx", "special_case", ["region", "year", "state"], schema=S)
    op.create_index("special_case_hospital_idx", "special_case", ["region", "fixmedins_code", "setl_list_id"],
                    schema=S)
    op.create_table(
        "special_case_decision",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("setl_list_id", BYTE_ORDER, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text, nullable=False, server_default=""),
        sa.Column("request_digest", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index("special_case_decision_case_idx", "special_case_decision", ["region", "setl_list_id", "id"],
                    schema=S)
    op.create_index("special_case_decision_request_idx", "special_case_decision", ["region", "request_id"],
                    unique=True, schema=S, postgresql_where=sa.text("request_id <> ''"))
    op.execute(f"""
        CREATE FUNCTION {S}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%.% is append-only: post a reversing entry instead of changing one',
                TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$""")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {S}.{table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {S}.refuse_change()")


def downgrade() -> None:
    for table in ("special_case_decision", "special_case", "ledger_line", "ledger_entry"):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION {S}.refuse_change()")
