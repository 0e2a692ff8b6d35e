from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from libs.common.runtime import Runtime
from services.coding.bootstrap import CodingApp, build_app
from services.coding.service_layer.importing import import_codes
from services.coding.service_layer.unit_of_work import CodingUnitOfWork


@pytest.fixture(scope="session")
async def coding_app(runtime: Runtime) -> AsyncIterator[CodingApp]:
    app = build_app(runtime)
    await import_codes(app.new_uow, runtime.reference_dir)
    yield app
    await app.close()


@pytest.fixture
def new_uow(coding_app: CodingApp) -> Callable[[], CodingUnitOfWork]:
    return coding_app.new_uow
