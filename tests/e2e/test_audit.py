"""The audit log of the decisions other than a list's status (tested in test_tenants with auth on): a policy's
activation (settlement) and a rule set's activation (review), each with its actor, request id and details."""

from __future__ import annotations

import json
import random

import asyncpg
import grpc
from medpay.review.v1 import review_service_pb2 as rpb
from medpay.review.v1 import review_service_pb2_grpc as rgrpc
from medpay.settlement.v1 import settlement_pb2 as spb
from medpay.settlement.v1 import settlement_pb2_grpc as sgrpc

from libs.common.grpc.server import start_server
from libs.common.runtime import Runtime
from services.evaluation.adapters.review.files import DEFAULT_RULESET

from .test_settlement_policies import params


async def _rows(database_url: str, schema: str, request_id: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(f"SELECT actor, action, resource, region, request_id, detail "
                                      f"FROM {schema}.audit_log WHERE request_id = $1", request_id)
    finally:
        await connection.close()


async def test_a_policy_activation_is_audited(runtime: Runtime, database_url: str) -> None:
    from services.settlement.bootstrap import build_app, service_spec

    running = await start_server(service_spec(build_app(runtime)), runtime.settings, "127.0.0.1:0")
    region = f"33{random.randrange(10, 99)}00"
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = sgrpc.SettlementServiceStub(channel)
            created = await stub.CreatePolicy(spb.CreatePolicyRequest(parent=f"regions/{region}", policy=spb.Policy(
                year=2026, parameters_json=params())))
            await stub.ActivatePolicy(spb.ActivatePolicyRequest(name=created.name, approved_by="bureau:zhang"),
                                      metadata=(("x-request-id", f"audit-policy-{region}"),))
    finally:
        await running.stop()
    rows = await _rows(database_url, "settlement", f"audit-policy-{region}")
    assert [(r["actor"], r["action"], r["resource"], r["region"]) for r in rows] == [
        ("dev", "policy.activate", created.name, region)]
    assert json.loads(rows[0]["detail"]) == {"approved_by": "bureau:zhang"}


async def test_a_rule_set_activation_is_audited(runtime: Runtime, database_url: str) -> None:
    from services.evaluation.bootstrap import build_app, service_spec

    running = await start_server(service_spec(await build_app(runtime)), runtime.settings, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            review = rgrpc.ReviewServiceStub(channel)
            created = await review.CreateRuleSet(rpb.CreateRuleSetRequest(rule_set=rpb.RuleSet(
                source=DEFAULT_RULESET.read_bytes(), source_format=rpb.RULE_SET_FORMAT_TOML)))
            await review.ActivateRuleSet(rpb.ActivateRuleSetRequest(name=created.name, reason="audit test"),
                                         metadata=(("x-request-id", "audit-ruleset-1"),))
    finally:
        await running.stop()
    rows = await _rows(database_url, "review", "audit-ruleset-1")
    assert [(r["actor"], r["action"], r["resource"]) for r in rows] == [("dev", "rule_set.activate", created.name)]
    assert json.loads(rows[0]["detail"]) == {"reason": "audit test"}
