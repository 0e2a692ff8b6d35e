"""Migrations of every declared schema: they make the tables the code declares, run again they change nothing,
and each history goes down to nothing and up to the same schema."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from libs.common.db.migrate import alembic_config, upgrade, upgrade_all
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


async def _catalogue(database_url: str, *only: str) -> tuple[list[tuple[str, ...]], dict[str, str]]:
    """Every column, index and constraint of the declared schemas (or ``only`` these), and each schema's Alembic
    version."""
    names = list(only) or [s.name for s in services().schemas()]
    conn = await asyncpg.connect(database_url)
    try:
        columns = await conn.fetch(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
            "FROM information_schema.columns WHERE table_schema = ANY($1::text[])", names)
        indexes = await conn.fetch("SELECT schemaname, indexname, indexdef FROM pg_indexes "
                                   "WHERE schemaname = ANY($1::text[])", names)
        constraints = await conn.fetch(
            "SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = ANY($1::text[])", names)
        versions = {name: await conn.fetchval(f'SELECT version_num FROM "{name}".alembic_version') for name in names}
    finally:
        await conn.close()
    return sorted(tuple(map(str, r)) for r in [*columns, *indexes, *constraints]), versions


async def test_upgrading_again_changes_nothing(database_url: str) -> None:
    """Run over a database already at head, the runner applies nothing: every schema's version, column, index
    and constraint is as before (a migration that is not idempotent, or a head that moved, fails here)."""
    before, versions = await _catalogue(database_url)
    applied = await asyncio.to_thread(upgrade_all, database_url)
    assert applied == [s.name for s in services().schemas()]
    assert {"coding", "collection", "grouping", "settlement", "evaluation", "review"} <= set(applied)
    assert all(versions.values()) and len(before) > 100
    assert await _catalogue(database_url) == (before, versions)


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


@pytest.mark.parametrize("schema", [s.name for s in services().schemas()])
async def test_each_history_goes_down_to_nothing_and_up_to_the_same_schema(empty_database: str,
                                                                            schema: str) -> None:
    """Every declared schema's downgrades undo its upgrades: down to base its tables are gone (the version
    table aside), and up again it is column for column, index for index what it was."""
    await asyncio.to_thread(upgrade, schema, empty_database, "head")
    at_head = await _catalogue(empty_database, schema)
    await asyncio.to_thread(command.downgrade, alembic_config(schema, empty_database), "base")
    conn = await asyncpg.connect(empty_database)
    try:
        left = await conn.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
                                "AND table_name <> 'alembic_version'", schema)
    finally:
        await conn.close()
    assert [r["table_name"] for r in left] == []
    await asyncio.to_thread(upgrade, schema, empty_database, "head")
    assert await _catalogue(empty_database, schema) == at_head
