"""The plaintext probe listener (MEDPAY_HEALTH_ADDRESS): health only, the service's own health states."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.grpc.server import start_server
from libs.common.runtime import Runtime
from services.grouping.bootstrap import build_registry, service_spec

SERVICE = "medpay.grouping.v1.GroupingService"


async def test_probe_port_answers_health_only_and_follows_draining(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"health_address": "127.0.0.1:0", "grace_period_seconds": 1.0})
    running = await start_server(service_spec(build_registry(runtime)), settings, "127.0.0.1:0")
    assert running.probes is not None and running.probe_port not in (0, running.port)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.probe_port}") as probe:
        health = health_pb2_grpc.HealthStub(probe)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # no service method through the probe port
            await pb_grpc.GroupingServiceStub(probe).ListSchemes(pb.ListSchemesRequest())
        assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
        watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        stopping = asyncio.create_task(running.stop())
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        await stopping


async def test_no_probe_listener_unless_asked(runtime: Runtime) -> None:
    running = await start_server(service_spec(build_registry(runtime)), runtime.settings, "127.0.0.1:0")
    try:
        assert running.probes is None and running.probe_port == 0
    finally:
        await running.stop()
