"""Settlement policies over a real gRPC server and PostgreSQL: versions numbered per region and year, drafts
until activated, activation superseding the version before, idempotent creation, paging, and errors that name
the parameter at fault."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.grpc.server import start_server
from libs.common.runtime import Runtime
from services.settlement.bootstrap import build_app, service_spec

from .rpc_errors import error_info


@pytest.fixture(scope="module")
async def stub(runtime: Runtime) -> AsyncIterator[pb_grpc.SettlementServiceStub]:
    app = build_app(runtime)
    running = await start_server(service_spec(app), runtime.settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield pb_grpc.SettlementServiceStub(channel)
    await running.stop()


def region() -> str:
    """A region of its own per test (the session database is shared)."""
    return f"{random.randrange(100000, 999999)}"


def params(**changes: Any) -> str:
    base: dict[str, Any] = {"method": "points", "scale": 100, "weights": {"years": [2024, 2025]},
                            "budget": "1000000.00", "provisional_point_value": "8.5", "advance_share": "0.9"}
    base.update(changes)
    return json.dumps(base)


async def test_versions_are_drafts_until_activated_and_activation_supersedes(
        stub: pb_grpc.SettlementServiceStub) -> None:
    r = region()
    first = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{r}", policy=pb.Policy(
        year=2026, parameters_json=params(), description="first")))
    second = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{r}", policy=pb.Policy(
        year=2026, parameters_json=params(budget="1200000.00"))))
    other_year = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{r}", policy=pb.Policy(
        year=2025, parameters_json=params())))
    assert (first.name, second.name, other_year.name) == (
        f"regions/{r}/policies/2026-v1", f"regions/{r}/policies/2026-v2", f"regions/{r}/policies/2025-v1")
    assert first.state == pb.POLICY_STATE_DRAFT and not first.approved_by
    assert json.loads(first.parameters_json)["budget"] == "1000000.00"
    assert first.parameters_digest != second.parameters_digest
    assert (first.effective_dates.start_date.month, first.effective_dates.end_date.day) == (1, 31)

    active = await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=first.name, approved_by="bureau:zhang"))
    assert (active.state, active.approved_by) == (pb.POLICY_STATE_ACTIVE, "bureau:zhang")
    assert active.HasField("activate_time")
    await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=second.name, approved_by="bureau:li"))
    states = {p.name: p.state for p in (await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}"))
                                        ).policies}
    assert states == {first.name: pb.POLICY_STATE_SUPERSEDED, second.name: pb.POLICY_STATE_ACTIVE,
                      other_year.name: pb.POLICY_STATE_DRAFT}
    again = await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=second.name, approved_by="someone else"))
    assert (again.state, again.approved_by) == (pb.POLICY_STATE_ACTIVE, "bureau:li")
    got = await stub.GetPolicy(pb.GetPolicyRequest(name=first.name))
    assert (got.state, got.parameters_json) == (pb.POLICY_STATE_SUPERSEDED, first.parameters_json)


async def test_creation_is_idempotent_by_request_id(stub: pb_grpc.SettlementServiceStub) -> None:
    r = region()
    request = pb.CreatePolicyRequest(parent=f"regions/{r}", request_id="7c1f4e1a-0000-4000-8000-000000000001",
                                     policy=pb.Policy(year=2026, parameters_json=params()))
    first = await stub.CreatePolicy(request)
    replay = await stub.CreatePolicy(request)
    assert replay == first
    request.policy.parameters_json = params(budget="5.00")
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await stub.CreatePolicy(request)
    assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(reused.value)[0].reason == "REQUEST_ID_REUSED"
    listed = await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}"))
    assert [p.name for p in listed.policies] == [first.name]


async def test_list_pages_by_year_then_version(stub: pb_grpc.SettlementServiceStub) -> None:
    r = region()
    for year in (2026, 2025, 2026, 2025, 2026):
        await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{r}", policy=pb.Policy(
            year=year, parameters_json=params())))
    names, token = [], ""
    while True:
        page = await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}", page_size=2, page_token=token))
        assert len(page.policies) <= 2
        names += [p.name.rsplit("/", 1)[1] for p in page.policies]
        token = page.next_page_token
        if not token:
            break
    assert names == ["2025-v1", "2025-v2", "2026-v1", "2026-v2", "2026-v3"]
    only = await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}", year=2025))
    assert [p.version for p in only.policies] == [1, 2]
    with pytest.raises(grpc.aio.AioRpcError) as forged:
        await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}", page_token="garbage"))
    assert error_info(forged.value)[0].reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize(("parameters", "key"), [
    (params(levels={"2": {"high_k": "three"}}), "levels.2.high_k"),
    (params(method="fee"), "method"),
    ("{\"method\": ", "params"),
    (params(special_cases={"approved": ["S1"]}), "special_cases.approved"),
])
async def test_a_bad_parameter_is_refused_with_its_key_and_nothing_is_stored(
        stub: pb_grpc.SettlementServiceStub, parameters: str, key: str) -> None:
    r = region()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{r}", policy=pb.Policy(
            year=2026, parameters_json=parameters)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info, bad = error_info(refused.value)
    assert (info.reason, info.metadata["parameter"]) == ("INVALID_PARAMETER", key)
    assert [v.field for v in bad.field_violations] == [key]
    assert key in (refused.value.details() or "")
    listed = await stub.ListPolicies(pb.ListPoliciesRequest(parent=f"regions/{r}"))
    assert not listed.policies


async def test_unknown_and_malformed_names(stub: pb_grpc.SettlementServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetPolicy(pb.GetPolicyRequest(name=f"regions/{region()}/policies/2026-v9"))
    assert (missing.value.code(), error_info(missing.value)[0].reason) == (grpc.StatusCode.NOT_FOUND,
                                                                           "POLICY_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name="policies/2026", approved_by="x"))
    assert error_info(malformed.value)[1].field_violations[0].field == "name"
    with pytest.raises(grpc.aio.AioRpcError) as no_approver:
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=f"regions/{region()}/policies/2026-v1"))
    assert error_info(no_approver.value)[1].field_violations[0].field == "approved_by"
    with pytest.raises(grpc.aio.AioRpcError) as bad_year:
        await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{region()}", policy=pb.Policy(
            year=26, parameters_json=params())))
    assert error_info(bad_year.value)[1].field_violations[0].field == "policy.year"
