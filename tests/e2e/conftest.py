"""Real grpc.aio servers on ephemeral loopback ports, over the session's migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from libs.common.grpc.server import RunningServer, start_server
from libs.common.runtime import Runtime
from services.coding.bootstrap import build_app
from services.coding.bootstrap import service_spec as coding_spec
from services.coding.service_layer.importing import import_codes
from services.grouping.bootstrap import build_registry
from services.grouping.bootstrap import service_spec as grouping_spec


@pytest.fixture(scope="session")
async def coding_server(runtime: Runtime) -> AsyncIterator[RunningServer]:
    app = build_app(runtime)
    await import_codes(app.new_uow, runtime.reference_dir)
    running = await start_server(coding_spec(app, 3600), runtime.settings, "127.0.0.1:0")
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def coding_channel(coding_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{coding_server.port}") as channel:
        yield channel


@pytest.fixture(scope="session")
async def grouping_server(runtime: Runtime) -> AsyncIterator[RunningServer]:
    running = await start_server(grouping_spec(build_registry(runtime)), runtime.settings, "127.0.0.1:0")
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def grouping_channel(grouping_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grouping_server.port}") as channel:
        yield channel
