"""OpenTelemetry tracing: a tracer provider with the exporter the settings choose, and gRPC/SQLAlchemy hooks."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from .config import Settings

log = logging.getLogger(__name__)
_installed: list[TracerProvider] = []  # at most one provider per process


def configure_tracing(settings: Settings, service: str) -> bool:
    """Install a tracer provider once per process; returns whether spans are exported."""
    if _installed or settings.otel_exporter == "none":
        return bool(_installed)
    provider = TracerProvider(resource=Resource.create({"service.name": f"medpay-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    _installed.append(provider)
    return True


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otel_endpoint, insecure=True)


def grpc_server_interceptors(settings: Settings) -> list[Any]:
    """The OpenTelemetry aio server interceptor, when tracing is on."""
    if settings.otel_exporter == "none":
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def instrument_engine(settings: Settings, sync_engine: Any) -> None:
    """Trace SQL statements of an engine, when tracing is on."""
    if settings.otel_exporter == "none":
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=sync_engine)
