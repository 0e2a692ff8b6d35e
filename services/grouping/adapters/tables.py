"""The grouping service's tables, in its own PostgreSQL schema ``grouping``.

CHS-DRG packs stay files of the reference directory; what the service makes itself is stored here: the
published versions of DIP catalogues (immutable: a trigger refuses UPDATE and DELETE), the histories uploaded
to build them (kept by content digest: a build's input), and the runs of those builds (the run framework).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY

from libs.common.runs import run_table

SCHEMA = "grouping"
metadata = MetaData(schema=SCHEMA)

dip_catalogue_version = Table(
    "dip_catalogue_version", metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("region", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("digest", Text, nullable=False),
    Column("surgery_digest", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("threshold", Integer),
    Column("base_periods", ARRAY(Text), nullable=False),
    Column("as_of_sequence", BigInteger, nullable=False),
    Column("cases_read", BigInteger, nullable=False),
    Column("cases_skipped", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("group_count", Integer, nullable=False),
    Column("core_group_count", Integer, nullable=False),
    Column("case_count", BigInteger, nullable=False),
    Column("core_case_count", BigInteger, nullable=False),
    Column("catalogue_tsv", LargeBinary, nullable=False),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

dip_build_upload = Table(
    "dip_build_upload", metadata,
    Column("digest", Text, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

run = run_table(metadata)
