"""The collection service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it
light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.auth.roles import BUREAUS, EVERYONE, HOSPITAL, PROVINCE, Role, access_table
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


ACCESS = {
    **access_table("medpay.collection.v1.CollectionService", {
        # Hospitals upload their own lists; the province's tools and services may load any (bulk, replays).
        "UploadSettlementList": (HOSPITAL, PROVINCE, Role.SERVICE),
        "BatchUploadSettlementLists": (HOSPITAL, PROVINCE, Role.SERVICE),
        # Reads and status changes are scoped: a hospital its own lists, a prefecture its region.
        "GetSettlementList": EVERYONE, "ListSettlementLists": EVERYONE, "ListPendingItems": EVERYONE,
        "RevokeSettlementList": EVERYONE, "RestoreSettlementList": EVERYONE,
        # The case feed carries every hospital's cases: the bureaus' and the services' (a prefecture its region).
        "StreamCaseEvents": BUREAUS, "StreamCases": BUREAUS, "GetCaseFeed": BUREAUS,
        # Upload QC statistics compare a region's hospitals: the bureaus' and the services' (evaluation's QC pass rate).
        "ListUploadStatistics": BUREAUS,
        # Settlement records come from the core settlement system, run by the bureaus (a prefecture's for the
        # institutions of its region only).
        "UploadSettlementRecords": BUREAUS, "StreamSettlementRecords": BUREAUS,
    }),
    **access_table("medpay.collection.v1.FeeDetailService", {
        "UploadFeeDetails": (HOSPITAL, PROVINCE, Role.SERVICE), "RevokeFeeDetails": (HOSPITAL, PROVINCE, Role.SERVICE),
        "GetStayFeeDetails": EVERYONE, "StreamFeeDetails": BUREAUS,
    }),
}
"""Who may call each RPC (libs/common/auth/roles.py); a method missing here is refused with MEDPAY_AUTH_DIR."""

SERVICE = ServiceDeclaration(
    name="collection",
    summary="data collection: settlement lists over gRPC and the national HTTP interface",
    spec=_spec,
    schemas=(Schema("collection", HERE / "adapters" / "migrations",
                   tables="services.collection.adapters.tables:all_tables"),),
    depends_on=("coding", "grouping"),
    also_calls=("evaluation", "settlement"),  # 2301 asks smart review; 3203 reads the settlement runs
    k8s_name="medpay-collection",
    access=ACCESS,
    http=HttpDoor(address_setting="collection_http_address", health_path="/healthz"),
)
