"""Tables of the ``settlement`` schema: policies, weight tables, settlement runs and what they computed.

Exact figures are integers in the domain's units (weights and points in 1/10,000, the point value and the fund
ratio in 1/1,000,000, money in fen) so that nothing is rounded on the way to and from the database. Every row of a
run that belongs to a hospital carries its institution code: the tenant filter of every hospital's query.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from libs.common.audit import audit_table
from libs.common.runs import run_table

SCHEMA = "settlement"
BYTE_ORDER = Text(collation="C")
"""Groups, institutions and list ids sort in byte order (FORMAT.md's outputs): comparisons use the C collation."""
metadata = MetaData(schema=SCHEMA)
runs_table = run_table(metadata)
audit = audit_table(metadata)
"""Who activated a policy (and, as they come, approved special cases): libs/common/audit.py."""
"""The run framework's runs of this schema (weight computations and settlement runs)."""

policy = Table(
    "policy", metadata,
    Column("region", Text, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("parameters", JSONB, nullable=False),
    Column("parameters_digest", Text, nullable=False),
    Column("group_scheme", Text, nullable=False),
    Column("effective_start", Date, nullable=False),
    Column("effective_end", Date, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False),
    Column("approved_by", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("activated_at", DateTime(timezone=True)),
    Column("request_id", Text, nullable=False, server_default=""),
    Column("request_digest", Text, nullable=False, server_default=""),
    Column("hospital_levels", JSONB, nullable=False, server_default="{}"),
    Index("policy_request_idx", "region", "request_id", unique=True, postgresql_where=text("request_id <> ''")),
)
"""One row per policy version; never updated except its state (draft -> active -> superseded)."""

weight_table = Table(
    "weight_table", metadata,
    Column("region", Text, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("run_id", Text, nullable=False, server_default=""),
    Column("policy", Text, nullable=False, server_default=""),
    Column("input_digest", Text, nullable=False),
    Column("feed_sequence", BigInteger, nullable=False, server_default="0"),
    Column("base_cases", Integer, nullable=False, server_default="0"),
    Column("avg_all_numerator", Text, nullable=False),
    Column("avg_all_denominator", Text, nullable=False),
    Column("level_basis", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("weight_table_digest_idx", "region", "year", "input_digest", unique=True),
)
"""A weight table version of a region and settlement year: computed from history (by a run, ``run_id``) or
imported; ``avg_all`` is FORMAT's exact overall mean in yuan as a fraction."""

weight_group = Table(
    "weight_group", metadata,
    Column("region", Text, primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("group_code", BYTE_ORDER, primary_key=True),
    Column("kept_cases", Integer, nullable=False),
    Column("rw", Integer, nullable=False),
    Column("standard", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
)
"""The weighted groups of a weight table: weight in 1/10,000, standard cost in fen, ``data`` or ``fixed``."""

settlement_run = Table(
    "settlement_run", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("run_type", Text, nullable=False),
    Column("policy", Text, nullable=False),
    Column("weight_table", Text, nullable=False),
    Column("feed_sequence", BigInteger, nullable=False),
    Column("method", Text, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("hospitals", Integer, nullable=False),
    Column("total_points", BigInteger),
    Column("fund_ratio", BigInteger),
    Column("point_value", BigInteger),
    Column("provisional_point_value", BigInteger),
    Column("totals", JSONB, nullable=False),
    Column("statements_digest", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("settlement_run_region_period_idx", "region", "period", "created_at"),
)
"""One row per finished settlement run (written in the run's last transaction)."""

case_result = Table(
    "case_result", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the run's (every tenant's row carries its region)
    Column("setl_list_id", BYTE_ORDER, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("fixmedins_code", Text, nullable=False),
    Column("month", Text, nullable=False),
    Column("group_code", Text, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("rw", Integer),
    Column("base_points", BigInteger),
    Column("points", BigInteger),
    Column("standard", BigInteger),
    Column("basis", BigInteger),
    Column("fund_due", BigInteger),
    Column("halved", Boolean, nullable=False),
    Column("total_cost", BigInteger, nullable=False),
    Column("terms", JSONB, nullable=False),
    Index("case_result_hospital_idx", "run_id", "fixmedins_code"),
)
"""The result of each case a run settled (FORMAT's cases.csv row) with the terms of its formula."""

hospital_statement = Table(
    "hospital_statement", metadata,
    Column("run_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the run's
    Column("fixmedins_code", BYTE_ORDER, primary_key=True),
    Column("cases", Integer, nullable=False),
    Column("points", BigInteger),
    Column("cmi", Integer, nullable=False),
    Column("gross", BigInteger, nullable=False),
    Column("assessed", BigInteger, nullable=False),
    Column("advances", BigInteger, nullable=False),
    Column("adjustments", BigInteger, nullable=False),
    Column("deductions", BigInteger, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("surplus", BigInteger),
    Column("months", JSONB, nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("case_kinds", JSONB, nullable=False, server_default="{}"),
)
"""A hospital's statement of a run; ``document`` is its canonical JSON, the bytes a re-run must reproduce."""

# The ledger's and the special cases' tables live beside these, on the same metadata (one migration chain, one
# autogenerate check): importing them here registers them wherever the schema's tables are read.
from . import ledger_tables  # noqa: E402, F401
