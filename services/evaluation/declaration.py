"""The evaluation service's registration (libs/common/registry.py): imported by `medpay --help`, so keep it light.

One process hosts two APIs with their own schemas and Alembic histories: performance evaluation
(``medpay.evaluation.v1``, schema ``evaluation``) and smart review (``medpay.review.v1``, schema ``review``).
"""

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

    return service_spec(await build_app(runtime))


SERVICE = ServiceDeclaration(
    name="evaluation",
    summary="performance evaluation (indicators, scorecards, reports) and smart review (rule sets, CheckStay, "
            "review runs, flags)",
    spec=_spec,
    schemas=(Schema("evaluation", HERE / "adapters" / "indicators" / "migrations"),
             Schema("review", HERE / "adapters" / "review" / "migrations")),
    depends_on=("coding", "collection", "settlement"),
    k8s_name="medpay-evaluation",
)
