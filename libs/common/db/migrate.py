"""Alembic migrations, one history per service, each in the service's own PostgreSQL schema.

A service's ``adapters/migrations`` folder holds its ``env.py`` (which calls ``run_env``) and versions.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from .engine import asyncpg_url

_SERVICES = Path(__file__).resolve().parents[3] / "services"
SERVICE_MIGRATIONS = {service: _SERVICES / service / "adapters" / "migrations" for service in ("coding", "collection")}


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICE_MIGRATIONS[service]))
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Create the service schema if needed and apply its migrations (blocking; run outside an event loop)."""
    command.upgrade(alembic_config(service, url), revision)


def upgrade_all(url: str) -> list[str]:
    for service in SERVICE_MIGRATIONS:
        upgrade(service, url)
    return list(SERVICE_MIGRATIONS)


def run_env(config: Config, target_metadata: MetaData) -> None:
    """Body of each service's env.py: run migrations online with the schema's own version table."""
    schema: str = config.attributes["schema"]

    def do_run(connection: Connection) -> None:
        from alembic import context

        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table_schema=schema, include_schemas=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(asyncpg_url(config.attributes["url"]), poolclass=pool.NullPool)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
