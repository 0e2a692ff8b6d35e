"""The shared gRPC runtime: retries for idempotent methods only, the authentication hook, draining."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc
from pydantic import SecretStr

from libs.common.grpc.client import open_channel
from libs.common.grpc.server import start_server
from libs.common.runtime import Runtime
from services.grouping.bootstrap import build_registry, service_spec

from ..support import free_port

SERVICE = "medpay.grouping.v1.GroupingService"



async def test_idempotent_calls_are_retried_until_the_server_is_up(runtime: Runtime) -> None:
    port = free_port()
    registry = build_registry(runtime)
    channel = open_channel(f"127.0.0.1:{port}", idempotent_methods=[(SERVICE, "ListSchemes")])
    stub = pb_grpc.GroupingServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # not idempotent: fails at once
        await stub.GroupCases(pb.GroupCasesRequest(scheme="schemes/x"))
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE

    async def start_late() -> object:
        await asyncio.sleep(0.3)
        return await start_server(service_spec(registry), runtime.settings, f"127.0.0.1:{port}")

    starting = asyncio.create_task(start_late())
    reply = await stub.ListSchemes(pb.ListSchemesRequest())
    running = await starting
    assert reply.schemes
    await channel.close()
    await running.stop()  # type: ignore[attr-defined]


async def test_bearer_token_guards_rpcs_but_not_health(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"auth_token": SecretStr("s3cret")})
    running = await start_server(service_spec(build_registry(runtime)), settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb_grpc.GroupingServiceStub(plain).ListSchemes(pb.ListSchemesRequest())
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
            health = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        authed = open_channel(f"127.0.0.1:{running.port}", token="s3cret")
        assert (await pb_grpc.GroupingServiceStub(authed).ListSchemes(pb.ListSchemesRequest())).schemes
        await authed.close()
    finally:
        await running.stop()


async def test_draining_reports_not_serving(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"grace_period_seconds": 1.0})
    running = await start_server(service_spec(build_registry(runtime)), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        stopping = asyncio.create_task(running.stop())
        second = await watch.read()
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        await stopping
