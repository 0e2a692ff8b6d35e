"""The case feed's outbox: one event per change of a case, with the case after the change.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    op.add_column("group_result", sa.Column("kind", sa.Text, nullable=False, server_default="DRG"), schema=S)
    op.create_table(
        "case_event",
        sa.Column("event_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("sequence", sa.BigInteger, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("list_id", sa.BigInteger, nullable=False),
        sa.Column("setl_list_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("fixmedins_code", sa.Text, nullable=False),
        sa.Column("hospital_level", sa.SmallInteger, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("setl_id", sa.Text, nullable=False),
        sa.Column("psn_no", sa.Text, nullable=False),
        sa.Column("mdtrt_id", sa.Text, nullable=False),
        sa.Column("adm_date", sa.Date),
        sa.Column("dscg_date", sa.Date),
        sa.Column("los_days", sa.Integer),
        sa.Column("dscg_way", sa.Text, nullable=False),
        sa.Column("dept", sa.Text, nullable=False),
        sa.Column("doctor", sa.Text, nullable=False),
        sa.Column("sex", sa.SmallInteger),
        sa.Column("age_years", sa.Integer),
        sa.Column("age_days", sa.Integer),
        sa.Column("birth_weight_g", sa.Integer),
        sa.Column("diagnoses", ARRAY(sa.Text), nullable=False),
        sa.Column("procedures", ARRAY(sa.Text), nullable=False),
        sa.Column("groups", JSONB, nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("fund_fen", sa.BigInteger, nullable=False),
        sa.Column("personal_fen", sa.BigInteger, nullable=False),
        sa.Column("insutype", sa.Text, nullable=False),
        sa.Column("money_source", sa.Text, nullable=False),
        schema=S)
    # Writers find a list's latest event; the feed reads a region in sequence order; the as-of read finds the
    # lists of a region and period; the publisher finds what is not yet sequenced.
    op.create_index("case_event_list_idx", "case_event", ["list_id", "event_id"], schema=S)
    op.create_index("case_event_region_sequence_idx", "case_event", ["region", "sequence"], schema=S)
    op.create_index("case_event_region_period_idx", "case_event", ["region", "period", "list_id"], schema=S)
    op.create_index("case_event_unpublished_idx", "case_event", ["event_id"], schema=S,
                    postgresql_where=sa.text("sequence IS NULL"))
    op.execute(BACKFILL)


# Lists stored before the feed existed enter it with one event each: their current revision as it is now (read
# from the stored body exactly as domain/case_facts.py and domain/feed.py read it; the institution's level is
# not known here, 0). Accepted lists passed quality control, so their times, dates and amounts are well-formed.
_INT = "CASE WHEN {v} ~ '^[0-9]+$' THEN ({v})::int END"
_FEN = "round((b->'setlinfo'->>'{k}')::numeric * 100)::bigint"
_PRINCIPAL_FIRST = """ARRAY(SELECT trim(x->>'{code}') FROM jsonb_array_elements(
    CASE jsonb_typeof(b->'{node}') WHEN 'array' THEN b->'{node}' ELSE '[]'::jsonb END) WITH ORDINALITY AS n(x, i)
    WHERE jsonb_typeof(x) = 'object' AND coalesce(x->>'{code}', '') <> ''
    ORDER BY (x->>'{flag}') IS DISTINCT FROM '1', i)"""
BACKFILL = f"""
INSERT INTO {S}.case_event (kind, event_time, list_id, setl_list_id, revision, status, fixmedins_code,
    hospital_level, region, period, setl_id, psn_no, mdtrt_id, adm_date, dscg_date, los_days, dscg_way, dept,
    doctor, sex, age_years, age_days, birth_weight_g, diagnoses, procedures, groups, total_fen, fund_fen,
    personal_fen, insutype, money_source)
SELECT CASE WHEN l.current_revision = 1 THEN 'ACCEPTED' ELSE 'REVISED' END, r.received_time, l.list_id,
    l.setl_list_id, l.current_revision, l.status, l.fixmedins_code, 0, l.region, l.period, l.setl_id, l.psn_no,
    coalesce(b->'setlinfo'->>'mdtrt_id', ''), substr(b->'setlinfo'->>'adm_time', 1, 10)::date,
    substr(b->'setlinfo'->>'dscg_time', 1, 10)::date, r.los_days, r.discharge_type,
    coalesce(b->'setlinfo'->>'dscg_caty', ''), coalesce(b->'setlinfo'->>'chfpdr_code', ''), r.sex, r.age_years,
    {_INT.format(v="trim(b->'setlinfo'->>'nwb_age')")}, {_INT.format(v="trim(b->'setlinfo'->>'nwb_bir_wt')")},
    {_PRINCIPAL_FIRST.format(node="diseinfo", code="diag_code", flag="maindiag_flag")},
    {_PRINCIPAL_FIRST.format(node="oprninfo", code="oprn_oprt_code", flag="oprn_oprt_type")},
    coalesce((SELECT jsonb_agg(jsonb_build_object('scheme_id', g.scheme_id, 'scheme_version', g.scheme_version,
                                                  'kind', g.kind, 'drg', g.drg, 'adrg', g.adrg, 'mdc', g.mdc,
                                                  'status', g.status) ORDER BY g.grouped_time DESC, g.scheme_id)
              FROM {S}.group_result g WHERE g.list_id = l.list_id AND g.revision = l.current_revision), '[]'),
    r.total_fen, r.fund_fen,
    CASE WHEN coalesce(b->'setlinfo'->>'acct_pay', '') <> '' AND coalesce(b->'setlinfo'->>'psn_cashpay', '') <> ''
         THEN {_FEN.format(k="acct_pay")} + {_FEN.format(k="psn_cashpay")} ELSE r.total_fen - r.fund_fen END,
    coalesce(nullif(b->'setlinfo'->>'insutype', ''), b->'setlinfo'->>'hi_type', ''), 'LIST'
FROM {S}.settlement_list l
JOIN {S}.list_revision r ON r.list_id = l.list_id AND r.revision = l.current_revision
CROSS JOIN LATERAL (SELECT r.body AS b) body
ORDER BY l.list_id
"""


def downgrade() -> None:
    op.drop_table("case_event", schema=S)
    op.drop_column("group_result", "kind", schema=S)
