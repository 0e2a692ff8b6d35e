"""Migrations create each service's schema and are idempotent."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from libs.common.db.migrate import upgrade_all
from libs.common.registry import services

from ..support import schema_differences


async def test_coding_schema_has_its_tables_and_version(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'coding'")}
        version = await conn.fetchval("SELECT version_num FROM coding.alembic_version")
    finally:
        await conn.close()
    assert {"code_system", "code_version", "code", "alembic_version"} <= tables
    assert version == "0001"


async def test_upgrading_again_changes_nothing(database_url: str) -> None:
    applied = await asyncio.to_thread(upgrade_all, database_url)
    assert applied == [s.name for s in services().schemas()]
    assert {"coding", "collection"} <= set(applied)


async def test_collection_schema_has_its_tables(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'collection'")}
    finally:
        await conn.close()
    assert {"settlement_list", "list_revision", "list_finding", "group_result", "status_history", "idempotency",
            "rejection", "run"} <= tables


@pytest.mark.parametrize("schema", [s.name for s in services().schemas()])
async def test_the_tables_each_schema_declares_are_the_tables_its_migrations_make(database_url: str,
                                                                                  schema: str) -> None:
    """Every declared schema (the registry's, so a new service is checked without touching this test): Alembic's
    autogenerate, run against the migrated schema, finds no table, column, type, nullability or index that the
    code declares differently; a schema's metadata must hold tables at all, so an empty one cannot pass."""
    metadata = next(s for s in services().schemas() if s.name == schema).metadata()
    assert metadata.schema == schema and len(metadata.tables) >= 2
    assert await schema_differences(database_url, schema, metadata) == []
