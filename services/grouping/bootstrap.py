"""Wiring of the grouping service: load the packs once per process, expose them over gRPC."""

from __future__ import annotations

from libs.common.grpc.server import ServiceSpec
from libs.common.runtime import Runtime

from .adapters.loading import load_registry
from .api.servicer import SERVICE_NAME, GroupingServicer, add_to_server
from .service_layer.registry import SchemeRegistry


def build_registry(runtime: Runtime) -> SchemeRegistry:
    wanted = [s.strip() for s in runtime.settings.grouping_schemes.split(",") if s.strip()]
    return load_registry(runtime.reference_dir, wanted)


def service_spec(registry: SchemeRegistry) -> ServiceSpec:
    servicer = GroupingServicer(registry)
    return ServiceSpec("grouping", lambda server: add_to_server(servicer, server), [SERVICE_NAME])
