"""Tables of the ``evaluation`` schema: evaluation runs and what they computed.

Figures are ``NUMERIC`` (exact, read back as ``Decimal`` with their 4 places), money integer fen. Every row of a
run carries ``hospital``, the hospital it belongs to (``NULL`` for the region and for doctors working at several
hospitals): the tenant filter of every query a hospital makes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from libs.common.runs import run_table

SCHEMA = "evaluation"
BYTE_ORDER = Text(collation="C")
"""Units and groups are listed in byte order (INDICATORS.md): comparisons and indexes use the C collation."""
metadata = MetaData(schema=SCHEMA)
runs_table = run_table(metadata)
"""The run framework's runs of this schema (evaluation runs)."""


def _figure(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, Numeric(18, 4), nullable=nullable)


evaluation_run = Table(
    "evaluation_run", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("period_kind", Text, nullable=False),
    Column("feed_sequence", BigInteger, nullable=False),
    Column("settlement_run", Text, nullable=False, server_default=""),
    Column("weights_version", Text, nullable=False, server_default=""),
    Column("inputs", JSONB, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("hospitals", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("evaluation_run_region_period_idx", "region", "period", "created_at"),
)
"""One row per finished computation of a run (written in the run's last transaction)."""

indicator = Table(
    "indicator", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the run's
    Column("month", Text, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    Column("unit", BYTE_ORDER, primary_key=True),
    Column("hospital", Text),
    Column("name", Text, nullable=False, server_default=""),
    Column("hospital_level", SmallInteger),
    Column("cases", Integer, nullable=False),
    Column("grouped", Integer, nullable=False),
    _figure("grouping_rate", nullable=False),
    Column("drg_count", Integer, nullable=False),
    _figure("total_weight", nullable=False),
    _figure("cmi"),
    _figure("time_index"),
    _figure("cost_index"),
    Column("low_risk_cases", Integer, nullable=False),
    Column("low_risk_deaths", Integer, nullable=False),
    _figure("low_risk_mortality"),
    _figure("readmit15_rate", nullable=False),
    Column("quadrant", Text),
    Column("lists_received", Integer),
    Column("lists_accepted", Integer),
    _figure("qc_pass_rate"),
    Column("uploaded_in_time", Integer),
    _figure("timeliness"),
    _figure("high_outlier_share"),
    _figure("low_outlier_share"),
    Column("special_cases", Integer),
    Column("surplus_fen", BigInteger),
    _figure("review_flags_per_1000"),
    Column("review_confirmed_fen", BigInteger),
    Index("indicator_hospital_idx", "run_id", "hospital", "month", "level", "unit"),
)
"""``month`` is ``''`` for the whole period, else ``yyyy-MM`` (region and hospital rows of that month); ``level``
is 0 region, 1 hospital, 2 department, 3 doctor (the order rows are listed in)."""

group_profile = Table(
    "group_profile", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the run's
    Column("group_code", BYTE_ORDER, primary_key=True),
    Column("cases", Integer, nullable=False),
    Column("deaths", Integer, nullable=False),
    _figure("rw"),
    _figure("mean_los", nullable=False),
    Column("mean_cost_fen", BigInteger, nullable=False),
    _figure("cost_cv"),
    _figure("mortality", nullable=False),
    _figure("z_score"),
    Column("band", Text),
    Column("low_risk", Boolean, nullable=False),
)
