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
from services.grouping.bootstrap import app_spec as grouping_spec
from services.grouping.bootstrap import build_app as build_grouping

from ..support import free_port


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
def collection_address() -> str:
    """Chosen before either starts: the grouping server reads collection's case feed (DIP builds), and
    collection calls grouping."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
async def grouping_server(runtime: Runtime, collection_address: str) -> AsyncIterator[RunningServer]:
    settings = runtime.settings.model_copy(update={"collection_address": collection_address})
    running = await start_server(grouping_spec(build_grouping(Runtime(settings))), settings, "127.0.0.1:0")
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def grouping_channel(grouping_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grouping_server.port}") as channel:
        yield channel


@pytest.fixture(scope="session")
async def collection_app(runtime: Runtime, coding_server: RunningServer, grouping_server: RunningServer,
                         collection_address: str) -> AsyncIterator[tuple[RunningServer, str, object]]:
    """The collection service in-process: gRPC on the address the grouping server knows, HTTP on a free one."""
    import socket

    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http_address = f"127.0.0.1:{s.getsockname()[1]}"
    settings = runtime.settings.model_copy(update={
        "coding_address": f"127.0.0.1:{coding_server.port}", "grouping_address": f"127.0.0.1:{grouping_server.port}"})
    app = await build_collection(Runtime(settings))
    running = await start_server(collection_spec(app, http_address, "/api/v1/hsa"), settings, collection_address)
    yield running, f"http://{http_address}/api/v1/hsa", app
    await running.stop()
