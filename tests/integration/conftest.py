from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from libs.common.runtime import Runtime
from services.coding.bootstrap import CodingApp, build_app
from services.coding.service_layer.importing import import_codes
from services.coding.service_layer.unit_of_work import CodingUnitOfWork

from ..support import create_database, drop_database, server_url


@pytest.fixture(scope="session")
async def coding_app(runtime: Runtime) -> AsyncIterator[CodingApp]:
    app = build_app(runtime)
    await import_codes(app.new_uow, runtime.reference_dir)
    yield app
    await app.close()


@pytest.fixture
def new_uow(coding_app: CodingApp) -> Callable[[], CodingUnitOfWork]:
    return coding_app.new_uow


@pytest.fixture
async def empty_database(server_root: Path) -> AsyncIterator[str]:
    """A database of its own, empty (no schema migrated), dropped after the test: for migration tests."""
    admin = server_url(server_root)
    url, name = await create_database(admin)
    yield url
    await drop_database(admin, name)
