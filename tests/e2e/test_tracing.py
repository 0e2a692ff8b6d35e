"""One trace from a hospital's HTTP upload through the coding and grouping calls to the database commit, and the
request metrics (rate, errors, latency per method): real servers on loopback, real PostgreSQL, the SDK's
in-memory span exporter and metric reader."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from opentelemetry import propagate
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from libs.common import telemetry
from libs.common.grpc.server import RunningServer, start_server
from libs.common.runtime import Runtime
from services.coding.bootstrap import build_app as build_coding
from services.coding.bootstrap import service_spec as coding_spec
from services.grouping.bootstrap import app_spec as grouping_spec
from services.grouping.bootstrap import build_app as build_grouping

from ..support import free_port
from .lists import fresh

Telemetry = tuple[InMemorySpanExporter, InMemoryMetricReader, TracerProvider]


@pytest.fixture
def installed() -> Iterator[Telemetry]:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.install(provider, MeterProvider(metric_readers=[reader]))
    yield exporter, reader, provider
    telemetry.uninstall()
    exporter.shutdown()


@pytest.fixture
async def traced_services(installed: Telemetry, runtime: Runtime,
                          coding_server: RunningServer) -> AsyncIterator[tuple[str, int]]:
    """coding, grouping and collection started while tracing is on (so with the server interceptors)."""
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec

    coding = await start_server(coding_spec(build_coding(runtime), 3600), runtime.settings, "127.0.0.1:0")
    collection_address = f"127.0.0.1:{free_port()}"
    grouping_settings = runtime.settings.model_copy(update={"collection_address": collection_address})
    grouping = await start_server(grouping_spec(build_grouping(Runtime(grouping_settings))), grouping_settings,
                                  "127.0.0.1:0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http_address = f"127.0.0.1:{s.getsockname()[1]}"
    settings = runtime.settings.model_copy(update={"coding_address": f"127.0.0.1:{coding.port}",
                                                   "grouping_address": f"127.0.0.1:{grouping.port}"})
    collection = await start_server(collection_spec(await build_collection(Runtime(settings)), http_address,
                                                    "/api/v1/hsa"), settings, collection_address)
    yield f"http://{http_address}/api/v1/hsa", grouping.port
    for running in (collection, grouping, coding):
        await running.stop()


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_one_trace_from_the_http_upload_to_the_commit(installed: Telemetry,
                                                            traced_services: tuple[str, int]) -> None:
    exporter, _, provider = installed
    base, _ = traced_services
    request = next(r for r, truth in fresh(seed=97, cases=30) if not truth["faults"])
    exporter.clear()
    with provider.get_tracer("hospital").start_as_current_span("his upload", kind=SpanKind.CLIENT) as root:
        headers: dict[str, str] = {}
        propagate.inject(headers)  # the hospital's system sends traceparent
        async with httpx.AsyncClient(timeout=60) as client:
            reply = (await client.post(f"{base}/{request['infno']}", json=request, headers=headers)).json()
    assert reply["infcode"] == 0, reply["err_msg"]
    trace_id = root.get_span_context().trace_id
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in spans}

    http = [s for s in spans if s.kind is SpanKind.SERVER and s.name == f"POST /api/v1/hsa/{request['infno']}"]
    assert len(http) == 1 and http[0].parent is not None
    assert http[0].parent.span_id == root.get_span_context().span_id
    assert http[0].attributes is not None and http[0].attributes["http.response.status_code"] == 200

    def served(service: str) -> list[ReadableSpan]:
        return [s for s in spans if s.kind is SpanKind.SERVER and f"medpay.{service}.v1." in s.name]

    coding, grouping = served("coding"), served("grouping")
    assert coding and grouping, sorted(s.name for s in spans)
    commits = [s for s in spans if s.name == "db.commit"]
    inserts = [s for s in spans if s.kind is SpanKind.CLIENT and s.attributes
               and "INSERT INTO collection." in str(s.attributes.get("db.statement"))]  # the list's writer
    assert commits and inserts
    for span in (*coding, *grouping, *commits, *inserts):  # all of it under the hospital's HTTP request
        assert http[0] in ancestors(span, by_id), span.name
    assert all(":psn" not in str((s.attributes or {}).get("db.statement")) for s in inserts)
    last_commit = max(commits, key=lambda s: s.end_time or 0)
    assert all((g.end_time or 0) <= (last_commit.start_time or 0) for g in grouping)  # grouped, then stored


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return [point for resource in data.resource_metrics for scope in resource.scope_metrics
            for metric in scope.metrics if metric.name == name for point in metric.data.data_points]


async def test_request_metrics_count_rate_errors_and_latency_per_method(installed: Telemetry,
                                                                        traced_services: tuple[str, int]) -> None:
    _, reader, _ = installed
    base, grouping_port = traced_services
    request = next(r for r, truth in fresh(seed=98, cases=30) if not truth["faults"])
    async with httpx.AsyncClient(timeout=60) as client:
        assert (await client.post(f"{base}/{request['infno']}", json=request)).json()["infcode"] == 0
    def counts() -> dict[tuple[str, str], int]:
        return {(p.attributes["rpc.method"], p.attributes["rpc.code"]): p.value
                for p in points(reader, "medpay.rpc.requests")}

    grouping = "/medpay.grouping.v1.GroupingService/"
    before = counts()  # collection asked grouping for its schemes when it started
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grouping_port}") as channel:
        stub = grouping_grpc.GroupingServiceStub(channel)
        for _ in range(3):
            await stub.ListSchemes(grouping_pb.ListSchemesRequest())
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GroupCases(grouping_pb.GroupCasesRequest(scheme="schemes/no-such-scheme"))
    failed = caught.value.code().name

    after = counts()
    listed = (grouping + "ListSchemes", "OK")
    assert after[listed] - before.get(listed, 0) == 3
    assert after[(grouping + "GroupCases", failed)] == 1 and failed != "OK"
    assert after[(f"HTTP POST {request['infno']}", "200")] == 1
    assert any(method.startswith("/medpay.coding.v1.") and code == "OK" for method, code in after)
    latency = {p.attributes["rpc.method"]: p for p in points(reader, "medpay.rpc.duration")}
    assert latency[grouping + "ListSchemes"].count == after[listed] and latency[grouping + "ListSchemes"].sum > 0
    assert latency[f"HTTP POST {request['infno']}"].count == 1
