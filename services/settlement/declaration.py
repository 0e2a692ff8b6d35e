"""The settlement service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it
light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.auth.roles import BUREAUS, EVERYONE, HOSPITAL, PREFECTURE, PROVINCE, access_table
from libs.common.registry import Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import build_app, service_spec

    return service_spec(build_app(runtime))


ACCESS = access_table("medpay.settlement.v1.SettlementService", {
    # Payment policies are the bureaus' decisions; hospitals read the rules they are paid by.
    "CreatePolicy": (PREFECTURE, PROVINCE), "ActivatePolicy": (PREFECTURE, PROVINCE),
    "GetPolicy": EVERYONE, "ListPolicies": EVERYONE,
    # Weight tables are published (hospitals read what a group is worth); computing or importing one is not.
    "ComputeWeights": BUREAUS, "ImportWeightTable": BUREAUS,
    "GetWeightTable": EVERYONE, "ListWeightTables": EVERYONE, "ListGroupWeights": EVERYONE,
    "StartSettlementRun": BUREAUS, "GetSettlementRun": BUREAUS, "ListSettlementRuns": BUREAUS,
    # A hospital reads its own statements and cases' settlement (the servicer's tenant), a prefecture its region's.
    "ListHospitalStatements": EVERYONE, "GetCaseSettlement": EVERYONE, "ListCaseSettlements": EVERYONE,
})
ACCESS |= access_table("medpay.settlement.v1.LedgerService", {
    # A hospital reads its own entries and accounts (the servicer's tenant); corrections are the bureaus'.
    "ListLedgerEntries": EVERYONE, "GetLedgerEntry": EVERYONE, "ListLedgerAccounts": EVERYONE,
    "ReverseLedgerEntry": (PREFECTURE, PROVINCE),
})
ACCESS |= access_table("medpay.settlement.v1.SpecialCaseService", {
    # Hospitals apply for their own cases; the bureaus decide; everyone reads (a hospital its own).
    "ApplySpecialCase": (HOSPITAL,), "GetSpecialCase": EVERYONE, "ListSpecialCases": EVERYONE,
    "ApproveSpecialCase": (PREFECTURE, PROVINCE), "RejectSpecialCase": (PREFECTURE, PROVINCE),
})
"""Who may call each RPC (libs/common/auth/roles.py); a method missing here is refused with MEDPAY_AUTH_DIR."""

SERVICE = ServiceDeclaration(
    name="settlement",
    summary="payment settlement: policies, weight tables, monthly advances and year-end clearing",
    spec=_spec,
    schemas=(Schema("settlement", HERE / "adapters" / "migrations",
                   tables="services.settlement.adapters.ledger_tables:metadata"),),
    depends_on=("collection",),
    also_calls=("evaluation",),  # a clearing reads smart review's confirmed deductions (evaluation depends on us)
    k8s_name="medpay-settlement",
    access=ACCESS,
)
