"""Settlement's migrations on a database of their own: the tables the code declares are the ones the migrations
make, and the history goes down and up again."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from libs.common.db.migrate import alembic_config, upgrade

from ..support import schema_differences


async def test_the_tables_the_code_declares_are_the_tables_the_migrations_make(empty_database: str) -> None:
    from services.settlement.adapters.tables import metadata

    await asyncio.to_thread(upgrade, "settlement", empty_database, "head")
    found = await schema_differences(empty_database, "settlement", metadata)
    assert found == []


async def test_the_history_goes_down_and_up_again(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, "settlement", empty_database, "head")
    await asyncio.to_thread(command.downgrade, alembic_config("settlement", empty_database), "base")
    conn = await asyncpg.connect(empty_database)
    try:
        left = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'settlement'")}
        assert left == {"alembic_version"}
        await asyncio.to_thread(upgrade, "settlement", empty_database, "head")
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'settlement'")}
    finally:
        await conn.close()
    assert {"run", "policy", "weight_table", "weight_group", "settlement_run", "case_result",
            "hospital_statement"} <= tables
