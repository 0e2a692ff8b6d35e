"""The grouping service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.auth.roles import BUREAUS, EVERYONE, access_table
from libs.common.registry import Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import app_spec, build_app

    return app_spec(build_app(runtime))


ACCESS = access_table("medpay.grouping.v1.GroupingService", {
    # Grouping is a pure function of a case and a published scheme: hospitals pre-group their own cases too.
    "GroupCase": EVERYONE, "GroupCases": EVERYONE, "StreamGroupCases": EVERYONE, "ListSchemes": EVERYONE,
    "GetDrg": EVERYONE, "GetDipCatalogue": EVERYONE, "ListDipCatalogues": EVERYONE, "ListDipGroups": EVERYONE,
    # A DIP catalogue is the bureaus' decision from base-year cases.
    "BuildDipCatalogue": BUREAUS,
})
"""Who may call each RPC (libs/common/auth/roles.py); a method missing here is refused with MEDPAY_AUTH_DIR."""

SERVICE = ServiceDeclaration(
    name="grouping",
    summary="case grouping: CHS-DRG scheme packs and DIP catalogues held in memory",
    spec=_spec,
    schemas=(Schema("grouping", HERE / "adapters" / "migrations",
                   tables="services.grouping.adapters.tables:metadata"),),
    also_calls=("collection",),  # DIP catalogue builds read the case feed
    k8s_name="medpay-grouping",
    access=ACCESS,
)
