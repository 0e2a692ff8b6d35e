"""The scratch run schema, migrated through an Alembic history that uses the migration helper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.db.migrate import upgrade
from libs.common.registry import Schema

from .support import SCHEMA, chunk_done, engine_for, second_metadata

ENV_PY = """
from alembic import context

from libs.common.db.migrate import run_env
from tests.integration.runs.support import metadata

run_env(context.config, metadata)
"""

VERSION = """
from libs.common.runs.migration import create_run_table, drop_run_table

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_run_table("runs_test")


def downgrade() -> None:
    drop_run_table("runs_test")
"""


@pytest.fixture(scope="session")
def run_migrations(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    folder = tmp_path_factory.mktemp("run-migrations")
    (folder / "versions").mkdir()
    (folder / "env.py").write_text(ENV_PY)
    (folder / "versions" / "0001_runs.py").write_text(VERSION)
    return Schema(SCHEMA, Path(folder))


@pytest.fixture(scope="session")
async def run_engine(database_url: str, run_migrations: Schema) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(upgrade, run_migrations, database_url)
    engine = engine_for(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: chunk_done.create(sync, checkfirst=True))
        await conn.execute(text('CREATE SCHEMA IF NOT EXISTS "runs_test_b"'))
        await conn.run_sync(second_metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean(run_engine: AsyncEngine) -> AsyncEngine:
    async with run_engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {SCHEMA}.run, {SCHEMA}.chunk_done, runs_test_b.run"))
    return run_engine
