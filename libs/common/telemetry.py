"""OpenTelemetry: traces and request metrics.

One trace follows a list from the HTTP door (``traced_asgi``: the caller's ``traceparent`` is honoured) through
the gRPC calls it makes (clients inject the context: ``inject_trace_context``; servers extract it: the
OpenTelemetry server interceptor) and the SQL statements (``instrument_engine``) to the database commit
(``span("db.commit")`` in the unit of work). Request metrics (``record_rpc``): per method, a counter of requests by
status code (the rate, and the errors: every code but OK) and a latency histogram.

The provider is this module's, not only OpenTelemetry's global (which can be set once per process): tests install
an SDK provider with an in-memory exporter (``install``) and remove it again. Everything is looked up when used,
so an engine or channel made before ``configure_telemetry`` is traced all the same; with no provider nothing is
recorded and the hooks cost a check.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import Counter, Histogram, MeterProvider
from opentelemetry.propagators.textmap import Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from .config import Settings

log = logging.getLogger(__name__)
INSTRUMENTATION = "medpay"


@dataclass
class _Telemetry:
    tracer_provider: trace.TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    requests: Counter | None = None
    latency: Histogram | None = None


_state = _Telemetry()


def install(tracer_provider: trace.TracerProvider | None = None,
            meter_provider: MeterProvider | None = None) -> None:
    """Use these providers from now on (tests: an SDK provider with in-memory exporters/readers)."""
    _state.tracer_provider = tracer_provider
    _state.meter_provider = meter_provider
    if meter_provider is not None:
        meter = meter_provider.get_meter(INSTRUMENTATION)
        _state.requests = meter.create_counter(
            "medpay.rpc.requests", unit="{request}",
            description="RPCs and HTTP door requests served, by method and status code (errors: code != OK)")
        _state.latency = meter.create_histogram(
            "medpay.rpc.duration", unit="ms", description="time to answer an RPC or HTTP door request, by method")
    else:
        _state.requests = _state.latency = None


def uninstall() -> None:
    install(None, None)


def tracing_on() -> bool:
    return _state.tracer_provider is not None


def configure_telemetry(settings: Settings, service: str) -> bool:
    """Install exporting providers once per process, as the settings ask; returns whether spans are exported."""
    if tracing_on() or settings.otel_exporter == "none":
        return tracing_on()
    resource = Resource.create({"service.name": f"medpay-{service}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_span_exporter(settings)))
    trace.set_tracer_provider(provider)
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    meter_provider = SdkMeterProvider(resource=resource,
                                      metric_readers=[PeriodicExportingMetricReader(_metric_exporter(settings))])
    metrics.set_meter_provider(meter_provider)
    install(provider, meter_provider)
    return True


configure_tracing = configure_telemetry  # the name start_server has always used


def _span_exporter(settings: Settings) -> SpanExporter:
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otel_endpoint, insecure=True)


def _metric_exporter(settings: Settings) -> Any:
    if settings.otel_exporter == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter()
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=settings.otel_endpoint, insecure=True)


def tracer() -> trace.Tracer:
    provider = _state.tracer_provider or trace.NoOpTracerProvider()
    return provider.get_tracer(INSTRUMENTATION)


@contextlib.contextmanager
def span(name: str, kind: SpanKind = SpanKind.INTERNAL, **attributes: str) -> Iterator[None]:
    """A span around a block when tracing is on (else nothing); errors mark it."""
    if not tracing_on():
        yield
        return
    with tracer().start_as_current_span(name, kind=kind, attributes=attributes):
        yield


# -- metrics --------------------------------------------------------------------------------------------------

def record_rpc(method: str, code: str, seconds: float) -> None:
    """One request served: ``method`` is the gRPC method (``/pkg.Service/Method``) or ``HTTP <path>``."""
    if _state.requests is None or _state.latency is None:
        return
    _state.requests.add(1, {"rpc.method": method, "rpc.code": code})
    _state.latency.record(seconds * 1000, {"rpc.method": method})


# -- gRPC -----------------------------------------------------------------------------------------------------

def grpc_server_interceptors(settings: Settings) -> list[Any]:
    """The OpenTelemetry aio server interceptor (extracts the caller's context), when tracing is on."""
    if not tracing_on():
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_state.tracer_provider)]  # type: ignore[no-untyped-call]


class _MetadataSetter(Setter[Any]):
    def set(self, carrier: Any, key: str, value: str) -> None:
        carrier.add(key, value)


_SETTER = _MetadataSetter()


def inject_trace_context(metadata: Any) -> None:
    """Put the current trace context (``traceparent``) into an outgoing call's ``grpc.aio.Metadata``."""
    if tracing_on():
        propagate.inject(metadata, setter=_SETTER)


# -- SQL ------------------------------------------------------------------------------------------------------

def instrument_engine(settings: Settings, sync_engine: Any) -> None:
    """A CLIENT span per SQL statement (its text, never its parameters) while tracing is on."""
    from sqlalchemy import event

    key = "medpay.span"

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _begin(conn: Any, cursor: Any, statement: str, *args: Any) -> None:  # parameters, context, many
        context = args[1]
        if tracing_on() and context is not None:
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            setattr(context, key, tracer().start_span(
                verb, kind=SpanKind.CLIENT,
                attributes={"db.system": "postgresql", "db.statement": statement[:2000]}))

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        current = getattr(args[1], key, None)
        if current is not None:
            current.end()

    @event.listens_for(sync_engine, "handle_error")
    def _error(exception_context: Any) -> None:
        current = getattr(exception_context.execution_context, key, None) if exception_context else None
        if current is not None:
            current.set_status(Status(StatusCode.ERROR, type(exception_context.original_exception).__name__))
            current.end()


# -- HTTP -----------------------------------------------------------------------------------------------------

Asgi = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                Awaitable[None]]


def traced_asgi(app: Asgi) -> Asgi:
    """An ASGI app wrapped in a SERVER span per HTTP request (child of the caller's ``traceparent``), counted in
    the request metrics as ``HTTP <path>`` with the status code."""

    async def traced(scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                     send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or (not tracing_on() and _state.requests is None):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        token = otel_context.attach(propagate.extract(headers))

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            with tracer().start_as_current_span(
                    f"{scope['method']} {scope['path']}", kind=SpanKind.SERVER,
                    attributes={"http.request.method": scope["method"], "url.path": scope["path"]}) as current:
                await app(scope, receive, sending)
                current.set_attribute("http.response.status_code", status["code"])
                if status["code"] >= 500:
                    current.set_status(Status(StatusCode.ERROR))
        finally:
            otel_context.detach(token)
            record_rpc(_http_method(scope), str(status["code"]), time.perf_counter() - started)

    return traced


_INFNO = re.compile(r"^\d{4}[A-Z]?$")


def _http_method(scope: MutableMapping[str, Any]) -> str:
    """The metric's method of an HTTP request: ``HTTP POST 4101A`` for a transaction (the router's path
    parameter, once routed), the path for the rest, ``HTTP other`` for what would make the label set unbounded."""
    infno = str(scope.get("path_params", {}).get("infno", ""))
    if _INFNO.match(infno):
        return f"HTTP {scope['method']} {infno}"
    path = scope["path"]
    return f"HTTP {scope['method']} {path}" if len(path) <= 32 and path.count("/") <= 4 else "HTTP other"
