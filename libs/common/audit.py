"""The audit log: an append-only table per service schema of who decided what, when, under which request.

What is audited: a settlement list's status change (revoke, restore), a rule set's or policy's activation, a
special case's approval, a flag's review step (confirmation). The row is written in the same transaction as the
decision, so a decision is never without its row, nor a row without its decision.

    # the service's tables module (for repositories and the "tables agree with migrations" test)
    audit = audit_table(metadata)
    # an Alembic migration of the service's schema
    def upgrade() -> None:
        create_audit_table("collection")
    # inside the unit of work that makes the decision
    await record(session, audit, "settlement_list.revoke", f"settlementLists/{list_id}",
                 fixmedins_code=code, region=region, detail={"reason": reason})

``record`` takes the actor from the verified token of the RPC being served ("hospital:H33070300089",
"prefecture:330700", "service:collection"; "dev" in dev mode, "system" outside an RPC) and the request id from
the request's ``x-request-id`` (the log's request id). ``create_audit_table`` adds a trigger that refuses UPDATE,
DELETE and TRUNCATE: the table only grows, whatever the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, MetaData, Table, Text, func, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .auth.context import current_principal
from .logs import request_id_var

TABLE = "audit_log"


def audit_table(metadata: MetaData, name: str = TABLE) -> Table:
    """The audit table in ``metadata``'s schema (version 1 of its layout)."""
    return Table(
        name, metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("resource", Text, nullable=False),
        Column("fixmedins_code", Text, nullable=False, server_default=""),
        Column("region", Text, nullable=False, server_default=""),
        Column("request_id", Text, nullable=False, server_default=""),
        Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Index(f"ix_{name}_resource", "resource", "at"),
        Index(f"ix_{name}_at", "at"),
    )


def actor() -> str:
    """Who acts: the verified caller, "dev" for an RPC in dev mode, "system" outside any RPC."""
    caller = current_principal()
    if caller is not None:
        return str(caller)
    return "dev" if request_id_var.get() else "system"


async def record(session: AsyncSession | AsyncConnection, table: Table, action: str, resource: str, *,
                 fixmedins_code: str = "", region: str = "", detail: Mapping[str, Any] | None = None,
                 request_id: str = "") -> None:
    """Append one row in the caller's transaction (committed or rolled back with the decision)."""
    await session.execute(insert(table).values(
        actor=actor(), action=action, resource=resource, fixmedins_code=fixmedins_code, region=region,
        request_id=request_id or request_id_var.get(), detail=dict(detail or {})))


def append_only_sql(schema: str, name: str = TABLE) -> list[str]:
    """The trigger that refuses to change or remove rows of ``schema.name``."""
    function = f'"{schema}".{name}_append_only'
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
                  USING ERRCODE = 'insufficient_privilege'; END $$""",
        f'CREATE TRIGGER {name}_no_update BEFORE UPDATE OR DELETE ON "{schema}".{name} '
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f'CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON "{schema}".{name} '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def create_audit_table(schema: str, name: str = TABLE) -> None:
    """CREATE TABLE <schema>.audit_log and its append-only trigger (inside the running Alembic migration)."""
    from alembic import op

    audit_table(MetaData(schema=schema), name).create(op.get_bind())
    for statement in append_only_sql(schema, name):
        op.execute(statement)


def drop_audit_table(schema: str, name: str = TABLE) -> None:
    from alembic import op

    op.drop_table(name, schema=schema)
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".{name}_append_only()')
