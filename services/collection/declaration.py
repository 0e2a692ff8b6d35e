"""The collection service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it
light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.registry import HttpDoor, Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import build_app, service_spec

    settings = runtime.settings
    return service_spec(await build_app(runtime), settings.collection_http_address, settings.collection_http_base,
                        reuse_port=settings.serve_reuse_port)


SERVICE = ServiceDeclaration(
    name="collection",
    summary="data collection: settlement lists over gRPC and the national HTTP interface",
    spec=_spec,
    schemas=(Schema("collection", HERE / "adapters" / "migrations"),),
    depends_on=("coding", "grouping"),
    also_calls=("evaluation",),  # the door's fee details (2301) ask smart review
    k8s_name="medpay-collection",
    http=HttpDoor(address_setting="collection_http_address", health_path="/healthz"),
)
