"""The demo's settlement stage: a synthetic settlement year paid by the settlement service.

Three synthetic years of rich lists (two base years and the settlement year) go to collection in batches; the
region's policy is stored (a first version to compute weights from the base years, a second with the budget and
the provisional point value derived from them, approved); the weight table is computed from the base years of
the case feed; the twelve months are advanced one run after another; a list of an advanced month is revoked and
comes back as an adjustment in the next month's run; three hospitals apply for their costliest stay of the year as
a special case (特病单议) and the bureau approves two and rejects one; smart review goes over the year and the
bureau confirms some flags (``before_clearing``); the year is cleared against the advances, settling the approved
special cases by their cost and deducting the confirmed amounts the settlement service reads from review itself.
The results feed the report's settlement section (``report_settlement.py``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import grpc
import orjson
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc
from medpay.settlement.v1 import special_cases_pb2 as cpb
from medpay.settlement.v1 import special_cases_pb2_grpc as cpb_grpc

from libs.common.dates import Period
from libs.common.grpc.client import open_channel
from libs.common.paging import every_page

from ..synth.generator import Generator
from ..synth.params import SynthParams
from ..synth.sources import load_reference
from .report_settlement import yuan

YEAR = 2024
"""The settlement year (base years 2022-2023): years of their own, apart from the demo's intake month."""
BATCH = 2000
Step = Callable[[str], None]
BeforeClearing = Callable[[str, int, list[dict[str, Any]]], Awaitable[Any]]
"""(region, year, the synthetic truth of the lists) -> what to report; awaited after the advances."""
HospitalChannel = Callable[[str, str], grpc.aio.Channel]
"""(address, institution code) -> a channel that calls as that hospital (special-case applications are theirs)."""
SPECIAL_APPLICATIONS, SPECIAL_APPROVALS = 3, 2


@dataclass
class SpecialCaseShown:
    """One special-case application of the demo: the stay as its month's advance paid it, the bureau's decision
    and the stay as the clearing settled it."""

    setl_list_id: str
    fixmedins_code: str
    total_cost: int
    """fen"""
    month: str
    advance_kind: str
    advance_points: str
    reason: str
    decision: str
    """``approved`` or ``rejected``."""
    note: str
    clearing_kind: str = ""
    clearing_points: str = ""


@dataclass
class SettlementDemo:
    region: str
    year: int
    lists: int = 0
    policy: str = ""
    weight_table: pb.WeightTable = field(default_factory=pb.WeightTable)
    advances: list[pb.SettlementRun] = field(default_factory=list)
    advance_statements: dict[str, list[pb.HospitalStatement]] = field(default_factory=dict)
    clearing: pb.SettlementRun = field(default_factory=pb.SettlementRun)
    statements: list[pb.HospitalStatement] = field(default_factory=list)
    revoked: str = ""
    revoked_hospital: str = ""
    adjustment: int = 0
    adjusted_in: str = ""
    names: dict[str, str] = field(default_factory=dict)
    special_cases: list[SpecialCaseShown] = field(default_factory=list)
    review: Any = None
    """What ``before_clearing`` returned (the demo: ``demo_review.YearReview``)."""


def policy_parameters(years: tuple[int, int], budget: str = "1.00", provisional: str = "0",
                      assessed_down: tuple[str, ...] = ()) -> dict[str, Any]:
    """The demo region's DRG point policy (FORMAT.md's params.json); the hospitals in ``assessed_down`` (the
    synthetic upcoders) score 0.70 in the year's assessment. No deductions: the clearing takes smart review's."""
    return {"method": "points", "scale": 100,
            "hospitals": {code: {"assessment": "0.70"} for code in assessed_down},
            "weights": {"years": list(years), "year_weights": [1, 2], "trim_percentiles": [2.5, 97.5],
                        "min_cases": 5},
            "levels": {"1": {"coefficient": "0.85", "high_k": "2"}, "2": {"coefficient": "0.92", "high_k": "2.5"},
                       "3": {"coefficient": "1.00", "high_k": "3"}},
            "high_bands": [{"up_to": "100", "k": "3"}, {"up_to": "300", "k": "2"}, {"k": "1.5"}],
            "low_ratio": "0.4", "readmission_days": 15, "special_cases": {"cap_share": "0.05"},
            "budget": budget, "adjustment_share": "0.03", "provisional_point_value": provisional,
            "advance_share": "0.9"}


async def settle_a_year(collection: str, settlement: str, reference_dir: Path, *, hospitals: int,
                        per_month: int, scheme: str, step: Step,
                        channel: Callable[[str], grpc.aio.Channel] = open_channel,
                        hospital_channel: HospitalChannel | None = None,
                        before_clearing: BeforeClearing | None = None) -> SettlementDemo:
    """``channel`` calls as the bureau; ``hospital_channel`` as a hospital (default: ``channel``, dev mode)."""
    params = SynthParams(cases=per_month * 36, year=YEAR - 2, months=36, hospitals=hospitals, scheme=scheme,
                         rich_lists=True, seed=7)
    ref, _ = load_reference(params, reference_dir)
    demo = SettlementDemo(params.region, YEAR, names={h.code: h.name for h in ref.hospitals})
    levels = {h.code: h.level for h in ref.hospitals}
    async with channel(collection) as c_channel, channel(settlement) as s_channel:  # the demo's: TLS, a token
        lists = collection_grpc.CollectionServiceStub(c_channel)
        stub = pb_grpc.SettlementServiceStub(s_channel)
        operations = operations_pb2_grpc.OperationsStub(s_channel)
        written = list(Generator(params, ref).lists())
        demo.lists = await _upload(lists, [r for r, _ in written])
        step(f"{demo.lists:,} lists of {YEAR - 2}-{YEAR} uploaded to collection in batches")
        parent = f"regions/{params.region}"
        draft = await _policy(stub, parent, policy_parameters((YEAR - 2, YEAR - 1)), levels, "base years")
        operation = await stub.ComputeWeights(pb.ComputeWeightsRequest(
            parent=parent, weight_table=pb.WeightTable(year=YEAR, policy=draft.name)))
        done = await _wait(operations, operation)
        done.response.Unpack(demo.weight_table)
        step(f"weight table {demo.weight_table.name}: {demo.weight_table.groups} groups from "
             f"{demo.weight_table.base_cases:,} base-year cases, avg_all {demo.weight_table.avg_all}")
        budget, provisional = await _budget(lists, params.region, Decimal(demo.weight_table.avg_all))
        upcoders = tuple(sorted(h.code for h in ref.hospitals if h.aggressive))
        policy = await _policy(stub, parent, policy_parameters((YEAR - 2, YEAR - 1), budget, provisional, upcoders),
                               levels, "budget, provisional point value, assessment of the upcoding hospitals")
        await stub.ActivatePolicy(pb.ActivatePolicyRequest(name=policy.name, approved_by="demo bureau"))
        demo.policy = policy.name
        step(f"policy {policy.name} approved: budget {budget}, provisional point value {provisional}")
        for month in range(1, 13):
            run = await _settle(stub, operations, parent, Period(YEAR, month))
            demo.advances.append(run)
            demo.advance_statements[run.name] = await _statements(stub, run.name)
            if month == 6:
                demo.revoked, demo.revoked_hospital = await _revoke_one(lists, params.region, Period(YEAR, 3))
            if demo.revoked and not demo.adjusted_in:
                moved = [s for s in demo.advance_statements[run.name] if s.adjustments.fen]
                if moved:
                    demo.adjusted_in, demo.adjustment = run.name, sum(s.adjustments.fen for s in moved)
            step(f"advance {YEAR}-{month:02d}: {run.cases:,} cases, {_yuan(run.total_balance.fen)} paid")
        as_hospital = hospital_channel or (lambda address, _code: channel(address))
        demo.special_cases = await _special_cases(stub, cpb_grpc.SpecialCaseServiceStub(s_channel),
                                                  lambda code: as_hospital(settlement, code), parent, demo)
        for shown in demo.special_cases:
            step(f"special case {shown.setl_list_id} of {shown.fixmedins_code} ({_yuan(shown.total_cost)} yuan, "
                 f"{shown.advance_kind} in {shown.month}): applied, {shown.decision}")
        if before_clearing is not None:
            demo.review = await before_clearing(params.region, YEAR, [t for _, t in written])
        demo.clearing = await _settle(stub, operations, parent, Period(YEAR))
        demo.statements = await _statements(stub, demo.clearing.name)
        for shown in demo.special_cases:
            cleared = await stub.GetCaseSettlement(pb.GetCaseSettlementRequest(
                name=f"{demo.clearing.name}/caseSettlements/{shown.setl_list_id}"))
            shown.clearing_kind, shown.clearing_points = _kind(cleared.kind), cleared.points
        step(f"clearing {YEAR}: point value {demo.clearing.point_value}, balance "
             f"{_yuan(demo.clearing.total_balance.fen)}, review deductions "
             f"{_yuan(demo.clearing.total_review_deductions.fen)}")
    return demo


def _kind(kind: int) -> str:
    return pb.CaseKind.Name(pb.CaseKind.ValueType(kind)).removeprefix("CASE_KIND_").lower()


async def _special_cases(stub: Any, bureau: Any, as_hospital: Callable[[str], grpc.aio.Channel], parent: str,
                         demo: SettlementDemo) -> list[SpecialCaseShown]:
    """Hospitals apply for their costliest stay of the advanced months (high outliers first), three hospitals
    one stay each; the bureau approves the first two and rejects the third. Request ids make a second demo run
    on the same database find the same decisions."""
    stays = []
    for run in demo.advances:
        async for c in every_page(stub.ListCaseSettlements, pb.ListCaseSettlementsRequest(
                parent=run.name, page_size=1000), "case_settlements"):
            if c.setl_list_id != demo.revoked and c.kind != pb.CASE_KIND_SPECIAL:
                stays.append((c.kind != pb.CASE_KIND_HIGH, -c.total_cost.fen, c.setl_list_id, c))
    chosen: dict[str, pb.CaseSettlement] = {}
    for *_, c in sorted(stays, key=lambda s: s[:3]):
        if c.fixmedins_code not in chosen and len(chosen) < SPECIAL_APPLICATIONS:
            chosen[c.fixmedins_code] = c
    shown = []
    for i, c in enumerate(chosen.values()):
        reason = (f"demo: a stay of {_yuan(c.total_cost.fen)} yuan in group {c.group}, far above the group's "
                  f"standard (rare complications, long intensive care)")
        async with as_hospital(c.fixmedins_code) as channel:
            applied = await cpb_grpc.SpecialCaseServiceStub(channel).ApplySpecialCase(cpb.ApplySpecialCaseRequest(
                parent=parent, special_case=cpb.SpecialCase(setl_list_id=c.setl_list_id, reason=reason),
                request_id=f"demo-apply-{c.setl_list_id}"))
        if i < SPECIAL_APPROVALS:
            note = "the medical record supports the costs"
            decided = await bureau.ApproveSpecialCase(cpb.ApproveSpecialCaseRequest(
                name=applied.name, note=note, request_id=f"demo-approve-{c.setl_list_id}"))
        else:
            note = "the high-outlier payment of the group covers this stay"
            decided = await bureau.RejectSpecialCase(cpb.RejectSpecialCaseRequest(
                name=applied.name, note=note, request_id=f"demo-reject-{c.setl_list_id}"))
        month = f"{c.settlement_month.year}-{c.settlement_month.month:02d}"
        shown.append(SpecialCaseShown(
            c.setl_list_id, c.fixmedins_code, c.total_cost.fen, month, _kind(c.kind), c.points, reason,
            "approved" if decided.state == cpb.SPECIAL_CASE_STATE_APPROVED else "rejected", decided.decision_note))
    return shown


async def _upload(stub: Any, requests: list[dict[str, Any]]) -> int:
    accepted = 0
    for start in range(0, len(requests), BATCH):
        chunk = requests[start:start + BATCH]

        async def stream(chunk: list[dict[str, Any]] = chunk) -> Any:
            for r in chunk:
                yield collection_pb.BatchUploadSettlementListsRequest(upload=collection_pb.SettlementListUpload(
                    request_id=r["msgid"], fixmedins_code=r["fixmedins_code"], fixmedins_name=r["fixmedins_name"],
                    input_json=orjson.dumps(r["input"])))

        reply = await stub.BatchUploadSettlementLists(stream(), timeout=600)
        accepted += sum(not result.error for result in reply.results)
    return accepted


async def _policy(stub: Any, parent: str, parameters: dict[str, Any], levels: dict[str, int],
                  what: str) -> pb.Policy:
    text = json.dumps(parameters)
    key = hashlib.sha256(f"{parent}/{YEAR}/{text}".encode()).digest()[:16]
    created: pb.Policy = await stub.CreatePolicy(pb.CreatePolicyRequest(
        parent=parent, request_id=str(uuid.UUID(bytes=key, version=4)), policy=pb.Policy(
            year=YEAR, parameters_json=text, hospital_levels=levels, description=f"demo: {what}")))
    return created


async def _budget(stub: Any, region: str, avg_all: Decimal) -> tuple[str, str]:
    """A budget that is the settlement year's fund payments grown by 2%, and a provisional point value of 90% of
    a point's worth in the base years (avg_all / scale)."""
    request = collection_pb.StreamCasesRequest(region=region, settlement_periods=[Period(YEAR).to_proto()])
    fund = 0
    async for message in stub.StreamCases(request):
        fund += sum(c.fund_paid.fen for c in message.cases if c.status == collection_pb.LIST_STATUS_ACTIVE)
    budget = (Decimal(fund) * Decimal("1.02") / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    provisional = (avg_all / 100 * Decimal("0.9")).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return str(budget), str(provisional)


async def _wait(operations: Any, operation: operations_pb2.Operation) -> operations_pb2.Operation:
    while not operation.done:
        operation = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
            name=operation.name, timeout=Duration(seconds=30)))
    if operation.HasField("error"):
        raise RuntimeError(f"{operation.name}: {operation.error.message}")
    return operation


async def _settle(stub: Any, operations: Any, parent: str, period: Period) -> pb.SettlementRun:
    """The period's run: started now, or the one that settled it already (a demo run again on its database)."""
    try:
        operation = await stub.StartSettlementRun(pb.StartSettlementRunRequest(
            parent=parent, settlement_run=pb.SettlementRun(settlement_period=period.to_proto())))
    except grpc.aio.AioRpcError as refused:
        if refused.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        listed = await stub.ListSettlementRuns(pb.ListSettlementRunsRequest(parent=parent, year=period.year,
                                                                            page_size=1000))
        for found in listed.settlement_runs:
            if Period.from_proto(found.settlement_period) == period:
                settled: pb.SettlementRun = found
                return settled
        raise
    run = pb.SettlementRun()
    (await _wait(operations, operation)).response.Unpack(run)
    return run


async def _statements(stub: Any, run: str) -> list[pb.HospitalStatement]:
    return [s async for s in every_page(stub.ListHospitalStatements, pb.ListHospitalStatementsRequest(
        parent=run, page_size=1000), "hospital_statements")]


async def _revoke_one(stub: Any, region: str, month: Period) -> tuple[str, str]:
    """Revokes the first active list of an advanced month (a hospital withdrawing a list after payment)."""
    request = collection_pb.StreamCasesRequest(region=region, settlement_periods=[month.to_proto()])
    async for message in stub.StreamCases(request):
        for case in message.cases:
            if case.status == collection_pb.LIST_STATUS_ACTIVE:
                await stub.RevokeSettlementList(collection_pb.RevokeSettlementListRequest(
                    fixmedins_code=case.fixmedins_code, setl_id=case.setl_id,
                    reason="demo: withdrawn after its month was advanced"))
                return case.setl_list_id, case.fixmedins_code
    return "", ""


def _yuan(fen: int) -> str:
    return yuan(fen)
