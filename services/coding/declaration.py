"""The coding service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.auth.roles import EVERYONE, access_table
from libs.common.registry import Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import build_app, service_spec

    return service_spec(build_app(runtime), runtime.settings.code_refresh_seconds)


ACCESS = access_table("medpay.coding.v1.CodingService", {
    # The national code standards are public reference data: everyone reads them.
    "ListCodeSystems": EVERYONE, "ListCodeVersions": EVERYONE, "GetCode": EVERYONE, "ListCodes": EVERYONE,
    "ValidateCodes": EVERYONE, "MapCodes": EVERYONE,
})
"""Who may call each RPC (libs/common/auth/roles.py); a method missing here is refused with MEDPAY_AUTH_DIR."""

SERVICE = ServiceDeclaration(
    name="coding",
    summary="code-standard management: the national coding standards, validation and mapping",
    spec=_spec,
    schemas=(Schema("coding", HERE / "adapters" / "migrations", tables="services.coding.adapters.tables:metadata"),),
    k8s_name="medpay-coding",
    access=ACCESS,
)
