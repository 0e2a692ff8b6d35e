"""Helpers shared by the tests: where the reference material is, and a throwaway database."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from libs.common.db.embedded import embedded_url
from libs.common.reference import BUNDLED_SAMPLE

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def shared_or_skip() -> Path:
    """The full shared reference directory; tests that need it skip (visibly) where it is absent."""
    if not (SHARED / "codes").is_dir():
        pytest.skip("../shared reference material is not present")
    return SHARED


def reference_dir() -> Path:
    """The shared material when present, else the bundled sample: enough for most tests."""
    return SHARED if (SHARED / "codes").is_dir() else BUNDLED_SAMPLE


def server_url(tmp_root: Path) -> str:
    """The PostgreSQL to test against: MEDPAY_TEST_DATABASE_URL, else an embedded server under ``tmp_root``."""
    return os.environ.get("MEDPAY_TEST_DATABASE_URL") or embedded_url(tmp_root)


def with_database(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name`` (keeping a ?host= socket query)."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


async def create_database(url: str) -> tuple[str, str]:
    """A fresh database on the server of ``url``: (its URL, its name).

    Its commits do not wait for the WAL flush (``synchronous_commit = off`` for every session on it): a commit is
    still atomic and visible to every other session at once, only a crash of the PostgreSQL server itself could
    lose the last fraction of a second, and no test crashes the server. Each commit costs about 0.2 ms instead of
    2 ms on the test machine's disk,."""
    name = f"medpay_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    finally:
        await conn.close()
    return with_database(url, name), name


async def drop_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def free_port() -> int:
    from services.cli.processes import free_address

    return int(free_address().rsplit(":", 1)[1])


def case_of(body: Any) -> Any:
    """The grouping case of a 4101A `input` object, read as the platform reads it (collection's facts)."""
    from services.collection.domain.case_facts import case_facts
    from services.grouping.domain.case import Case

    f = case_facts(body)
    return Case(dx=f.diagnoses, px=f.procedures, sex=f.sex, age_years=f.age_years, age_days=f.age_days,
                birth_weight_g=f.birth_weight_g, los_days=f.los_days, discharge_type=f.discharge_type)


async def schema_differences(database_url: str, schema: str, metadata: Any) -> list[Any]:
    """What Alembic's autogenerate would change in a migrated ``schema`` to match the tables the code declares
    (``metadata``): no table, column, type, nullability or index may differ."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import create_async_engine

    from libs.common.db.engine import asyncpg_url

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, _: name == schema if kind == "schema" else name != "alembic_version"})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(differences)
    finally:
        await engine.dispose()
