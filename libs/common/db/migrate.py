"""Alembic migrations: one linear history per PostgreSQL schema, each schema owned by one service.

Which schemas exist and where their migrations live is the service registry's business
(``libs.common.registry``): a service lists its ``Schema(name, migrations_folder)`` entries in its declaration.
The folder holds ``versions/`` and an ``env.py`` of two lines:

    from alembic import context
    from libs.common.db.migrate import run_env
    from services.settlement.adapters.tables import metadata

    run_env(context.config, metadata)

Each schema keeps its own ``alembic_version`` table inside itself, so two histories never meet, even when one
process hosts two schemas (evaluation: ``evaluation`` and ``review``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from ..registry import Registry, Schema, services
from .engine import asyncpg_url


def alembic_config(schema: Schema | str, url: str, registry: Registry | None = None) -> Config:
    """The Alembic configuration of one schema (by name, looked up in the registry, or given)."""
    if isinstance(schema, str):
        schema = (registry or services()).schema(schema)
    cfg = Config()
    cfg.set_main_option("script_location", str(schema.migrations))
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = schema.name
    return cfg


def upgrade(schema: Schema | str, url: str, revision: str = "head", registry: Registry | None = None) -> None:
    """Create the schema if needed and apply its migrations up to ``revision`` (blocking; outside an event loop)."""
    command.upgrade(alembic_config(schema, url, registry), revision)


def upgrade_service(service: str, url: str, registry: Registry | None = None,
                    done: Callable[[str], object] | None = None) -> list[str]:
    """Every schema of one service, at head; returns their names. ``done`` hears each schema's name as it is
    at head (``medpay migrate`` prints it)."""
    return _upgrade_all((registry or services()).get(service).schemas, url, done)


def upgrade_all(url: str, registry: Registry | None = None, done: Callable[[str], object] | None = None) -> list[str]:
    """Every schema of every declared service, at head; returns their names in the order applied."""
    return _upgrade_all((registry or services()).schemas(), url, done)


def _upgrade_all(schemas: Iterable[Schema], url: str, done: Callable[[str], object] | None) -> list[str]:
    names = []
    for schema in schemas:
        upgrade(schema, url)
        names.append(schema.name)
        if done is not None:
            done(schema.name)
    return names


def run_env(config: Config, target_metadata: MetaData) -> None:
    """Body of each schema's env.py: run migrations online with the schema's own version table."""
    schema: str = config.attributes["schema"]

    def do_run(connection: Connection) -> None:
        from alembic import context

        def own_schema(name: str | None, type_: str, parent_names: object) -> bool:
            return type_ != "schema" or name == schema  # autogenerate compares this schema only

        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table_schema=schema, include_schemas=True, include_name=own_schema)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(asyncpg_url(config.attributes["url"]), poolclass=pool.NullPool,
                                     hide_parameters=True)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())
