"""Migrations create each service's schema and are idempotent."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from libs.common.db.migrate import upgrade_all
from libs.common.registry import services


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


@pytest.mark.parametrize("schema", ["evaluation", "review"])
async def test_the_tables_evaluation_declares_are_the_tables_its_migrations_make(database_url: str,
                                                                                 schema: str) -> None:
    """Collection's and settlement's have this check in their own migration tests; evaluation's two schemas
    (performance evaluation and review) here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import create_async_engine

    from libs.common.db.engine import asyncpg_url
    from services.evaluation.adapters.indicators.tables import metadata as indicators
    from services.evaluation.adapters.review.tables import metadata as review

    metadata = indicators if schema == "evaluation" else review

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, _: name == schema if kind == "schema" else
            name != "alembic_version"})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == []
