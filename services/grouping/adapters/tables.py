"""The grouping service's tables, in its own PostgreSQL schema ``grouping``.

CHS-DRG packs stay files of the reference directory; what the service makes itself is stored here: the
published versions of DIP catalogues (immutable: a trigger refuses UPDATE and DELETE).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import ARRAY

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
