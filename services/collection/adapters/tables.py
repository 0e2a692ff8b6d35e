"""The collection service's tables, in its own PostgreSQL schema ``collection``."""

from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        Column,
                        Date,
                        DateTime,
                        Integer,
                        MetaData,
                        SmallInteger,
                        Table,
                        Text,
                        UniqueConstraint,
                        func,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "collection"
metadata = MetaData(schema=SCHEMA)

settlement_list = Table(
    "settlement_list", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("setl_list_id", Text, nullable=False, unique=True),
    Column("fixmedins_code", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("current_revision", Integer, nullable=False),
    Column("updated_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("fixmedins_code", "setl_id", name="settlement_list_institution_setl_key"),
)

list_revision = Table(
    "list_revision", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("idempotency_key", Text),
    Column("digest", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("ruleset", Text, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("fund_fen", BigInteger, nullable=False),
    Column("los_days", Integer),
    Column("sex", SmallInteger),
    Column("age_years", Integer),
    Column("discharge_date", Date),
    Column("discharge_type", Text, nullable=False),
    Column("principal_dx", Text, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

list_finding = Table(
    "list_finding", metadata,
    Column("list_id", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("code", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
)

group_result = Table(
    "group_result", metadata,
    Column("list_id", BigInteger, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("scheme_id", Text, primary_key=True),
    Column("scheme_version", Text, nullable=False),
    Column("drg", Text, nullable=False),
    Column("adrg", Text, nullable=False),
    Column("mdc", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("grouped_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

status_history = Table(
    "status_history", metadata,
    Column("change_id", BigInteger, primary_key=True, autoincrement=True),
    Column("list_id", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("change_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

idempotency = Table(
    "idempotency", metadata,
    Column("key", Text, primary_key=True),
    Column("digest", Text, nullable=False),
    Column("response", JSONB),
    Column("created_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rejection = Table(
    "rejection", metadata,
    Column("rejection_id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text),
    Column("fixmedins_code", Text, nullable=False),
    Column("setl_id", Text, nullable=False),
    Column("findings", JSONB, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

import_job = Table(
    "import_job", metadata,
    Column("file_digest", Text, primary_key=True),
    Column("path", Text, nullable=False),
    Column("lines_done", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("finished", Integer, nullable=False, server_default="0"),
    Column("updated_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

gateway_nonce = Table(
    "gateway_nonce", metadata,
    Column("key_id", Text, primary_key=True),
    Column("nonce", Text, primary_key=True),
    Column("seen_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
