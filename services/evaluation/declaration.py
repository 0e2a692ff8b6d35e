"""The evaluation service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it light.

One process hosts two APIs with their own schemas and Alembic histories: performance evaluation
(``medpay.evaluation.v1``, schema ``evaluation``) and smart review (``medpay.review.v1``, schema ``review``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from libs.common.auth.roles import BUREAUS, EVERYONE, HOSPITAL, PREFECTURE, PROVINCE, Role, access_table
from libs.common.registry import Schema, ServiceDeclaration

if TYPE_CHECKING:
    from libs.common.grpc.server import ServiceSpec
    from libs.common.runtime import Runtime

HERE = Path(__file__).resolve().parent


async def _spec(runtime: Runtime) -> ServiceSpec:
    from .bootstrap import build_app, service_spec

    return service_spec(await build_app(runtime))


ACCESS = {
    **access_table("medpay.evaluation.v1.EvaluationService", {
        "StartEvaluationRun": BUREAUS, "GetEvaluationRun": BUREAUS, "ListEvaluationRuns": BUREAUS,
        "ListIndicators": EVERYONE, "ListGroupProfiles": BUREAUS,
        "GetHospitalScorecard": EVERYONE,  # a hospital its own scorecard, a prefecture its region's
    }),
    **access_table("medpay.review.v1.ReviewService", {
        # Knowledge and rule sets are the province's and prefectures' policy; hospitals may read the rules.
        "ImportKnowledge": (PROVINCE, Role.SERVICE), "ListKnowledgeVersions": EVERYONE, "ListKnowledgeItems": EVERYONE,
        "CreateRuleSet": (PREFECTURE, PROVINCE), "ActivateRuleSet": (PREFECTURE, PROVINCE),
        "GetRuleSet": EVERYONE, "ListRuleSets": EVERYONE,
        "CheckStay": EVERYONE,  # a hospital checks its own stays before settling them (3101/3102)
        "StartReviewRun": BUREAUS, "GetReviewRun": BUREAUS, "ListReviewRuns": BUREAUS,
        "ListFlags": EVERYONE, "GetFlag": EVERYONE, "ListDeductions": EVERYONE,  # scoped to the caller's tenant
        # reviewers review and decide; a hospital appeals its own flags (the servicer checks step and owner)
        "ReviewFlag": (PREFECTURE, PROVINCE, HOSPITAL), "ListRuleStatistics": BUREAUS,
    }),
}
"""Who may call each RPC (libs/common/auth/roles.py); a method missing here is refused with MEDPAY_AUTH_DIR."""

SERVICE = ServiceDeclaration(
    name="evaluation",
    summary="performance evaluation (indicators, scorecards, reports) and smart review (rule sets, CheckStay, "
            "review runs, flags)",
    spec=_spec,
    schemas=(Schema("evaluation", HERE / "adapters" / "indicators" / "migrations",
                    tables="services.evaluation.adapters.indicators.tables:metadata"),
             Schema("review", HERE / "adapters" / "review" / "migrations",
                    tables="services.evaluation.adapters.review.tables:metadata")),
    depends_on=("coding", "collection", "settlement"),
    k8s_name="medpay-evaluation",
    access=ACCESS,
)
