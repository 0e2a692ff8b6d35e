"""The evaluation schema on the session's database, and units of work over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from libs.common.db.engine import create_engine, session_factory
from libs.common.db.migrate import upgrade
from libs.common.registry import Schema
from libs.common.runtime import Runtime
from services.evaluation.adapters.indicators import tables
from services.evaluation.service_layer.indicators.unit_of_work import EvaluationUnitOfWork

MIGRATIONS = tables.__file__.rsplit("/", 1)[0] + "/migrations"


@pytest.fixture(scope="session")
async def evaluation_uows(runtime: Runtime, database_url: str
                          ) -> AsyncIterator[Callable[[], EvaluationUnitOfWork]]:
    from pathlib import Path

    await asyncio.to_thread(upgrade, Schema("evaluation", Path(MIGRATIONS)), database_url)
    engine = create_engine(runtime.settings, url=database_url, pool_size=4)
    sessions = session_factory(engine)
    yield lambda: EvaluationUnitOfWork(sessions)
    await engine.dispose()
