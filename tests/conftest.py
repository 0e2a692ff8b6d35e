"""Session fixtures: one fresh, migrated PostgreSQL database for the whole run, dropped at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.common.config import Settings
from libs.common.db.migrate import upgrade_all
from libs.common.runtime import Runtime

from .support import create_database, drop_database, reference_dir, server_url


@pytest.fixture(scope="session")
def server_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pg")


@pytest.fixture(scope="session")
async def database_url(server_root: Path) -> AsyncIterator[str]:
    admin_url = server_url(server_root)
    url, name = await create_database(admin_url)
    await asyncio.to_thread(upgrade_all, url)
    yield url
    await drop_database(admin_url, name)


@pytest.fixture(scope="session")
def runtime(database_url: str) -> Runtime:
    settings = Settings(database_url=database_url, reference_dir=reference_dir(), log_format="text",
                        log_level="WARNING")
    return Runtime(settings)
