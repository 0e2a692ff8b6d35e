"""A DIP region settled by the settlement service at scale 1000 with DIP parameters, over real servers.

Synthetic DIP data of a prefecture (two base years and the settlement year) is posted to collection; its DIP
catalogue is built from the case feed of the base years (BuildDipCatalogue) and the region's stored cases are
regrouped under it; a DIP policy (point method, scale 1000, low ratio 0.5, one high band k = 2) computes its
weights from the DIP groups of the base years and settles a month and the year. Checked: the weight table is
FORMAT's over the base years' DIP groups, a month's advances are FORMAT's over its DIP groups, and every settled
case's kind and base points follow the DIP parameters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.grpc.server import RunningServer, start_server
from libs.common.runtime import Runtime
from services.collection.service_layer.regroup import regroup
from services.settlement.adapters.collection_feed import feed_case
from services.settlement.bootstrap import SettlementApp, build_app, service_spec
from services.settlement.domain.cases import History
from services.settlement.domain.collected import CollectedCase, with_levels
from services.settlement.domain.policies import GroupScheme
from services.settlement.domain.policy import policy_from_json
from services.settlement.domain.runs import RunInputs, month_advances
from services.settlement.domain.weights import compute_weights
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import reference_dir
from .lists import post_all, scheme_id

REGION, BASE, YEAR = "330500", (2017, 2018), 2019
"""A prefecture and years no other test posts lists for: the feed's cases of them are this module's."""
SCHEME = f"dip-{REGION}-{YEAR}"
PARAMS = {"method": "points", "scale": 1000,
          "weights": {"years": list(BASE), "year_weights": [1, 2], "min_cases": 2},
          "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {"coefficient": "1.00"}},
          "low_ratio": "0.5", "high_bands": [{"k": "2"}],
          "budget": "2500000.00", "adjustment_share": "0.05", "provisional_point_value": "9.5",
          "advance_share": "0.9"}
"""A DIP region's policy: base points = weight x 1000, low cases below half the standard, one high band k = 2."""


@dataclass
class DipRegion:
    settlement: pb_grpc.SettlementServiceStub
    operations: operations_pb2_grpc.OperationsStub
    collection: collection_grpc.CollectionServiceStub
    catalogue: dip_pb2.DipCatalogue
    levels: dict[str, int]
    app: SettlementApp


async def wait(operations: operations_pb2_grpc.OperationsStub, operation: operations_pb2.Operation
               ) -> operations_pb2.Operation:
    done = await operations.WaitOperation(operations_pb2.WaitOperationRequest(name=operation.name,
                                                                              timeout={"seconds": 180}))
    assert done.done and not done.HasField("error"), done.error
    return done


@pytest.fixture(scope="module")
async def region(runtime: Runtime, grouping_channel: grpc.aio.Channel,
                 collection_app: tuple[RunningServer, str, Any]) -> AsyncIterator[DipRegion]:
    running_collection, http_base, app = collection_app
    params = SynthParams(region=REGION, cases=900, year=BASE[0], months=36, hospitals=5, seed=41,
                         scheme=scheme_id(), rich_lists=True, dip=True)
    ref, _ = load_reference(params, reference_dir())
    replies = await post_all(http_base, [request for request, _ in Generator(params, ref).lists()])
    assert sum(r["infcode"] == 0 for r in replies) > 800
    grouping = grouping_grpc.GroupingServiceStub(grouping_channel)
    built = await wait(operations_pb2_grpc.OperationsStub(grouping_channel), await grouping.BuildDipCatalogue(
        dip_pb2.BuildDipCatalogueRequest(scheme=f"schemes/{SCHEME}", threshold=3, case_feed=dip_pb2.DipCaseFeedSource(
            settlement_periods=[Period(y).to_proto() for y in BASE]))))
    catalogue = dip_pb2.DipCatalogue()
    assert built.response.Unpack(catalogue) and catalogue.core_group_count > 10
    for year in (*BASE, YEAR):  # the region moves to DIP: every stored case gets its DIP group
        for month in range(1, 13):
            await regroup(app.new_uow, app.grouping, region=REGION, period=f"{year}-{month:02d}", scheme_id=SCHEME)
    settings = runtime.settings.model_copy(update={"collection_address": f"127.0.0.1:{running_collection.port}"})
    settlement_app = build_app(Runtime(settings))
    running = await start_server(service_spec(settlement_app), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as collection:
        stub = pb_grpc.SettlementServiceStub(channel)
        levels = {h.code: h.level for h in ref.hospitals}  # synthetic hospitals: not in the coding registry
        policy = await stub.CreatePolicy(pb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=pb.Policy(
            year=YEAR, parameters_json=json.dumps(PARAMS), group_scheme=pb.GROUP_SCHEME_DIP,
            hospital_levels=levels, description="DIP: point method at scale 1000")))
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=policy.name, approved_by="test bureau"))
        yield DipRegion(stub, operations_pb2_grpc.OperationsStub(channel),
                        collection_grpc.CollectionServiceStub(collection), catalogue, levels, settlement_app)
    await running.stop()


async def feed(r: DipRegion, periods: list[Period], sequence: int) -> list[CollectedCase]:
    request = collection_pb.StreamCasesRequest(region=REGION, as_of_sequence=sequence,
                                               settlement_periods=[p.to_proto() for p in periods])
    cases = [feed_case(c) async for m in r.collection.StreamCases(request) for c in m.cases]
    return with_levels(cases, r.levels)


async def run_of(r: DipRegion, period: Period) -> pb.SettlementRun:
    done = await wait(r.operations, await r.settlement.StartSettlementRun(pb.StartSettlementRunRequest(
        parent=f"regions/{REGION}", settlement_run=pb.SettlementRun(settlement_period=period.to_proto()))))
    run = pb.SettlementRun()
    assert done.response.Unpack(run)
    return run


def is_dip_group(code: str) -> bool:
    return "|" in code or "/" in code


async def test_a_dip_region_is_weighted_and_settled_by_its_dip_groups_at_scale_1000(region: DipRegion) -> None:
    operation = await region.settlement.ComputeWeights(pb.ComputeWeightsRequest(
        parent=f"regions/{REGION}", weight_table=pb.WeightTable(year=YEAR)))
    table = pb.WeightTable()
    assert (await wait(region.operations, operation)).response.Unpack(table)

    # The weights: FORMAT's step 1 over the DIP groups of the base years' active cases.
    history = History()
    for case in await feed(region, [Period(y) for y in BASE], table.case_feed_sequence):
        if case.active:
            history.add(case.group(GroupScheme.DIP), int(case.month[:4]), case.hospital_level, case.total_fen)
    policy = policy_from_json(PARAMS)
    expected = compute_weights(history, policy.weights)
    weights = {g.group: g for g in (await region.settlement.ListGroupWeights(pb.ListGroupWeightsRequest(
        parent=table.name, page_size=5000))).group_weights}
    assert {g: (w.rw, w.standard_cost.fen) for g, w in weights.items()} == {
        g.group: (f"{g.rw / 10_000:.4f}", g.standard) for g in expected.groups.values()}
    assert len(weights) > 10 and all(is_dip_group(g) for g in weights)
    assert any("|" in g for g in weights) and any("/" in g for g in weights)  # core and comprehensive groups

    # January's advances: FORMAT's over January's DIP groups.
    january = await run_of(region, Period(YEAR, 1))
    cases = [c for c in await feed(region, [Period(YEAR, 1)], january.case_feed_sequence) if c.active]
    assert cases and all(is_dip_group(c.group(GroupScheme.DIP)) or c.group(GroupScheme.DIP) == "0000"
                         for c in cases)
    stored = {s.fixmedins_code: s.advances.fen for s in (await region.settlement.ListHospitalStatements(
        pb.ListHospitalStatementsRequest(parent=january.name, page_size=1000))).hospital_statements}
    inputs = RunInputs(policy, (await region.app.weight_tables.get(table.name)).table, GroupScheme.DIP)
    assert stored == month_advances(inputs, cases) and sum(stored.values()) > 0

    # The year: every case's kind and base points follow the DIP parameters (scale 1000, low below 0.5 x the
    # standard, high above 2 x the standard).
    year = await run_of(region, Period(YEAR))
    assert year.run_type == pb.SETTLEMENT_RUN_TYPE_CLEARING and Decimal(year.point_value) > 0
    kinds: dict[int, int] = {}
    for case in [c for c in await feed(region, [Period(YEAR)], year.case_feed_sequence) if c.active]:
        settled = await region.settlement.GetCaseSettlement(pb.GetCaseSettlementRequest(
            name=f"{year.name}/caseSettlements/{case.list_id}"))
        group = case.group(GroupScheme.DIP)
        assert settled.group == group
        kinds[settled.kind] = kinds.get(settled.kind, 0) + 1
        if group not in weights:
            assert settled.kind == pb.CASE_KIND_BY_ITEM
            continue
        standard, cost = weights[group].standard_cost.fen, case.total_fen
        assert Decimal(settled.base_points) == Decimal(weights[group].rw) * 1000
        if cost > 2 * standard:
            assert settled.kind == pb.CASE_KIND_HIGH, (group, cost, standard)
        elif 2 * cost < standard:
            assert settled.kind == pb.CASE_KIND_LOW, (group, cost, standard)
        else:
            assert settled.kind == pb.CASE_KIND_NORMAL, (group, cost, standard)
            coefficient = Decimal(PARAMS["levels"][str(case.hospital_level)]["coefficient"])  # type: ignore[index]
            assert Decimal(settled.points) == (Decimal(settled.base_points) * coefficient).quantize(
                Decimal("0.0001"), ROUND_HALF_UP)
    # Every kind occurs (small base years: many comprehensive groups have too few cases and are paid by item).
    assert kinds.keys() >= {pb.CASE_KIND_NORMAL, pb.CASE_KIND_HIGH, pb.CASE_KIND_LOW, pb.CASE_KIND_BY_ITEM}
    assert kinds[pb.CASE_KIND_NORMAL] > 50

