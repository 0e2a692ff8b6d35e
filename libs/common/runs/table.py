"""The run table: one per service schema, holding every run of that service's job kinds.

``run_table(metadata)`` adds it to a service's ``MetaData(schema=...)`` (for its repositories and the
"tables agree with migrations" test); ``libs.common.runs.migration.create_run_table(schema)`` creates it in an
Alembic migration of that schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from .model import RunState

TABLE = "run"
_STATES = ", ".join(f"'{s.value}'" for s in RunState)


def run_table(metadata: MetaData, name: str = TABLE) -> Table:
    """The run table in ``metadata``'s schema (version 1 of its layout)."""
    return Table(
        name, metadata,
        Column("id", Text, primary_key=True),
        Column("kind", Text, nullable=False),
        Column("run_key", Text, nullable=False),
        Column("parameters", JSONB, nullable=False),
        Column("parameters_json", Text, nullable=False),
        Column("input_digest", Text, nullable=False, server_default=""),
        Column("versions", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("state", Text, nullable=False),
        Column("progress_done", BigInteger, nullable=False, server_default="0"),
        Column("progress_total", BigInteger, nullable=False, server_default="0"),
        Column("progress_unit", Text, nullable=False, server_default=""),
        Column("progress_message", Text, nullable=False, server_default=""),
        Column("checkpoint", JSONB),
        Column("result", JSONB),
        Column("error_code", Text),
        Column("error_reason", Text),
        Column("error_message", Text),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("attempts_before_resume", Integer, nullable=False, server_default="0"),
        Column("owner", Text),
        Column("lease_until", DateTime(timezone=True)),
        Column("cancel_requested", Boolean, nullable=False, server_default=false()),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("started_at", DateTime(timezone=True)),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("finished_at", DateTime(timezone=True)),
        UniqueConstraint("kind", "run_key", name=f"{name}_kind_run_key_key"),
        CheckConstraint(f"state IN ({_STATES})", name=f"{name}_state_check"),
        Index(f"{name}_created_idx", "created_at", "id"),
        Index(f"{name}_unfinished_idx", "state", "lease_until",
              postgresql_where=text("state IN ('PENDING', 'RUNNING')")),
    )
