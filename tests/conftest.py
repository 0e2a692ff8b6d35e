"""Session fixtures: one fresh, migrated PostgreSQL database for the whole run, dropped at the end.

Under pytest-xdist (``scripts/test`` runs two workers) each worker is a session of its own, with its own
database, servers and temporary folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from libs.common.config import Settings
from libs.common.db.migrate import upgrade_all
from libs.common.runtime import Runtime

from .support import create_database, drop_database, reference_dir, server_url

# Hypothesis judges a property by its examples, never by the clock: a loaded CI machine (two xdist workers on two
# cores, servers beside them) made "input generation is slow" and deadline failures of properties that hold.
settings.register_profile("medpay", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("medpay")

# Test folders whose modules share data generated once per process (functools.cache in a helper module): their
# modules stay in one worker, so it is generated once.
_SHARED_GENERATION = ("tests/unit/synth/",)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadfile`` (scripts/test) the tests of one module run in one worker, in their order, so a
    module-scoped fixture (the demo's run, a posted month) is made once and a test may rely on the ones before it
    in its module; the modules of a folder in ``_SHARED_GENERATION`` go to one worker together."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModulesAndSharedFolders(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return next((folder for folder in _SHARED_GENERATION if module.startswith(folder)), module)

    return ModulesAndSharedFolders(config, log)


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
