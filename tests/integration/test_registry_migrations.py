"""The migration runner follows the registry: a service process with two schemas and two Alembic histories
(as evaluation hosts evaluation and review) gets both, each with its own version table, on real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from libs.common.db.migrate import upgrade_all, upgrade_service
from libs.common.registry import Registry, Schema, ServiceDeclaration, services

from ..support import ROOT

ENV_PY = '''
from alembic import context
from sqlalchemy import Column, Integer, MetaData, Table

from libs.common.db.migrate import run_env

metadata = MetaData(schema="{schema}")
Table("{table}", metadata, Column("id", Integer, primary_key=True))
run_env(context.config, metadata)
'''

VERSION = '''
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down}


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


def history(folder: Path, schema: str, table: str, revisions: list[tuple[str, str]]) -> Schema:
    """An Alembic folder for ``schema``: ``revisions`` are (revision id, upgrade statement) in order."""
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV_PY.format(schema=schema, table=table))
    (folder / "script.py.mako").write_text("")
    down = None
    for revision, body in revisions:
        (folder / "versions" / f"{revision}.py").write_text(VERSION.format(revision=revision, down=repr(down),
                                                                           body=body))
        down = revision
    return Schema(schema, folder)


async def _nothing(runtime: Any) -> Any:
    raise AssertionError("not served here")


async def test_one_service_two_schemas_two_histories(tmp_path: Path, empty_database: str) -> None:
    indicators = history(tmp_path / "evaluation", "evaluation", "indicator_run", [
        ("e1", 'op.create_table("indicator_run", sa.Column("id", sa.Integer, primary_key=True), schema="evaluation")'),
        ("e2", 'op.add_column("indicator_run", sa.Column("note", sa.Text), schema="evaluation")')])
    review = history(tmp_path / "review", "review", "rule", [
        ("r1", 'op.create_table("rule", sa.Column("id", sa.Integer, primary_key=True), schema="review")')])
    registry = Registry([ServiceDeclaration("evaluation", "two APIs", _nothing, schemas=(indicators, review)),
                         ServiceDeclaration("other", "no database", _nothing)])

    assert await asyncio.to_thread(upgrade_all, empty_database, registry) == ["evaluation", "review"]
    assert await asyncio.to_thread(upgrade_service, "evaluation", empty_database, registry) == ["evaluation", "review"]
    conn = await asyncpg.connect(empty_database)
    try:
        versions = {schema: await conn.fetchval(f"SELECT version_num FROM {schema}.alembic_version")
                    for schema in ("evaluation", "review")}
        columns = [r["column_name"] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'evaluation' "
            "AND table_name = 'indicator_run' ORDER BY ordinal_position")]
        review_tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'review'")}
    finally:
        await conn.close()
    assert versions == {"evaluation": "e2", "review": "r1"}
    assert columns == ["id", "note"]
    assert review_tables == {"rule", "alembic_version"}


async def test_medpay_migrate_applies_what_the_registry_declares(empty_database: str) -> None:
    """`medpay migrate --service evaluation` goes through the migration runner: both of the process's schemas,
    each named as it reaches head."""
    import os
    import sys

    env = {**os.environ, "MEDPAY_DATABASE_URL": empty_database}
    medpay = str(Path(sys.executable).parent / "medpay")
    done = await asyncio.create_subprocess_exec(medpay, "migrate", "--service", "evaluation", env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    declared = [s.name for s in services().get("evaluation").schemas]
    assert [line for line in out.decode().splitlines() if line.endswith("schema at head")] == [
        f"{name}: schema at head" for name in declared]
    conn = await asyncpg.connect(empty_database)
    try:
        present = {r["nspname"] for r in await conn.fetch("SELECT nspname FROM pg_namespace")}
    finally:
        await conn.close()
    assert set(declared) <= present


def test_k8s_deployments_serve_declared_services_under_their_names() -> None:
    registry = services()
    served = {}
    for manifest in sorted((ROOT / "deploy" / "k8s" / "base").rglob("*.yaml")):  # a folder per service
        for doc in yaml.safe_load_all(manifest.read_text()):
            if not doc or doc.get("kind") != "Deployment":
                continue
            for container in doc["spec"]["template"]["spec"]["containers"]:
                args = container.get("args", [])
                if args[:1] == ["serve"]:
                    served[args[1]] = doc["metadata"]["name"]
    assert served, "no Deployment runs `medpay serve`"
    for service, deployment in served.items():
        assert registry.get(service).k8s_name == deployment
