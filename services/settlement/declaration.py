"""The settlement service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it
light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.registry import Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import build_app, service_spec

    return service_spec(build_app(runtime))


SERVICE = ServiceDeclaration(
    name="settlement",
    summary="payment settlement: policies, weight tables, monthly advances and year-end clearing",
    spec=_spec,
    schemas=(Schema("settlement", HERE / "adapters" / "migrations"),),
    depends_on=("collection",),
    k8s_name="medpay-settlement",
)
