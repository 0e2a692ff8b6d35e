"""The coding service's tables, in its own PostgreSQL schema ``coding``."""

from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        Boolean,
                        Column,
                        Date,
                        DateTime,
                        ForeignKey,
                        Index,
                        Integer,
                        MetaData,
                        Table,
                        Text,
                        UniqueConstraint,
                        func,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "coding"
metadata = MetaData(schema=SCHEMA)

code_system = Table(
    "code_system", metadata,
    Column("system_id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("is_map", Boolean, nullable=False, server_default="false"),
)

code_version = Table(
    "code_version", metadata,
    Column("version_id", BigInteger, primary_key=True, autoincrement=True),
    Column("system_id", Text, ForeignKey(f"{SCHEMA}.code_system.system_id"), nullable=False),
    Column("version", Text, nullable=False),
    Column("effective_start", Date, nullable=False),
    Column("effective_end", Date),
    Column("source", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("code_count", Integer, nullable=False),
    Column("loaded_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("system_id", "version", name="code_version_system_version_key"),
)

code = Table(
    "code", metadata,
    Column("version_id", BigInteger, ForeignKey(f"{SCHEMA}.code_version.version_id", ondelete="CASCADE"),
           primary_key=True),
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("attributes", JSONB, nullable=False, server_default="{}"),
    Column("retired", Boolean, nullable=False, server_default="false"),
    # Prefix searches (LIKE 'A01%') within a version, whatever the database's collation.
    Index("code_prefix_idx", "version_id", "code", postgresql_ops={"code": "text_pattern_ops"}),
)
