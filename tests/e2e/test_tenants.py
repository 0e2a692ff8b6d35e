"""Tenant isolation, table-driven: each role x each RPC that touches hospital data x own/other tenant, over real
gRPC with mutual TLS on loopback (coding, grouping, collection and evaluation servers with MEDPAY_AUTH_DIR set).

The data, in a prefecture of this module's own (so its runs settle and evaluate these lists only): lists of a few
hospitals A, B, ... (uploaded by the province), the fee details of A's stay, a settlement run and an evaluation run
of their month; every call names data that exists. "Own" and "other" are the caller's relation to hospital A's
data: a hospital token of A (own) or of B (other); a prefecture token of A's
prefecture (own) or of another (other); province and service tokens have no tenant (both columns the same).
An allowed call must not be refused (it may still fail for domain reasons, e.g. a revoke of what is revoked
already), and one of ``SUCCEEDS`` must succeed; a denied one must be PERMISSION_DENIED, or NOT_FOUND where a
resource is hidden rather than forbidden.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import orjson
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import message
from google.type import date_pb2
from medpay.collection.v1 import collection_service_pb2 as cpb
from medpay.collection.v1 import collection_service_pb2_grpc as cgrpc
from medpay.collection.v1 import fee_detail_service_pb2 as fpb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fgrpc
from medpay.common.v1 import common_pb2
from medpay.evaluation.v1 import evaluation_service_pb2 as epb
from medpay.evaluation.v1 import evaluation_service_pb2_grpc as egrpc
from medpay.review.v1 import review_service_pb2 as rpb
from medpay.review.v1 import review_service_pb2_grpc as rgrpc
from medpay.settlement.v1 import ledger_pb2 as lpb
from medpay.settlement.v1 import ledger_pb2_grpc as lgrpc
from medpay.settlement.v1 import settlement_pb2 as spb
from medpay.settlement.v1 import settlement_pb2_grpc as sgrpc
from medpay.settlement.v1 import special_cases_pb2 as xpb
from medpay.settlement.v1 import special_cases_pb2_grpc as xgrpc

from libs.common.auth.roles import Role
from libs.common.grpc.server import RunningServer, start_server
from libs.common.registry import services
from libs.common.runtime import Runtime
from services.coding.bootstrap import build_app as build_coding
from services.coding.bootstrap import service_spec as coding_spec
from services.coding.service_layer.importing import import_codes
from services.grouping.bootstrap import app_spec as grouping_spec
from services.grouping.bootstrap import build_app as build_grouping
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import reference_dir
from .auth_support import make_auth_dir, tls_channel, token
from .lists import details_of, own_ids, scheme_id

DENIED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
REFUSED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
OTHER_PREFECTURE = "330800"
REGION = "331100"
"""A prefecture no other test posts lists for: the runs of its month are over this module's lists only."""
POLICY = {"method": "points", "weights": {"years": [2025]}, "budget": "1000000.00",
          "provisional_point_value": "10.00", "advance_share": "0.90",  # monthly advances: ledger entries
          "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {"coefficient": "1.00"}}}


@dataclass
class World:
    auth_dir: Path
    collection: str
    evaluation: str
    settlement: str
    a: cpb.SettlementList  # hospital A's stored list
    b_code: str
    region: str
    mdtrt_id: str  # A's stay (with fee details)
    settlement_run: str  # a finished settlement run that settled A's list
    evaluation_run: str  # a finished evaluation run with A's scorecard
    flag: str  # a confirmed review flag of A's list (B has one too)
    operation: str  # the operation of the settlement run
    weights_sequence: int  # the case feed sequence the world's weight table was computed at
    evaluation_sequence: int  # and the evaluation run's
    special_case: str  # A's special case (applied for by A, for A's settled list)
    ledger_entry: str  # an entry of A's in the ledger (posted by the settlement run)


def _free() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
async def world(runtime: Runtime, database_url: str,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec
    from services.evaluation.bootstrap import build_app as build_evaluation
    from services.evaluation.bootstrap import service_spec as evaluation_spec
    from services.settlement.bootstrap import build_app as build_settlement
    from services.settlement.bootstrap import service_spec as settlement_spec

    auth_dir = make_auth_dir(tmp_path_factory.mktemp("tenants-auth"))
    collection_address = _free()
    base = runtime.settings.model_copy(update={"auth_dir": auth_dir, "collection_address": collection_address})
    stack: list[RunningServer] = []
    coding_app = build_coding(Runtime(base))
    await import_codes(coding_app.new_uow, runtime.reference_dir)
    stack.append(await start_server(coding_spec(coding_app, 3600), base, "127.0.0.1:0"))
    stack.append(await start_server(grouping_spec(build_grouping(Runtime(base))), base, "127.0.0.1:0"))
    settings = base.model_copy(update={"coding_address": f"127.0.0.1:{stack[0].port}",
                                       "grouping_address": f"127.0.0.1:{stack[1].port}",
                                       "auth_identity": "collection"})
    collection_app = await build_collection(Runtime(settings))
    stack.append(await start_server(collection_spec(collection_app, _free(), "/api/v1/hsa"), settings,
                                    collection_address))
    evaluation_settings = settings.model_copy(update={"auth_identity": "evaluation"})
    stack.append(await start_server(evaluation_spec(await build_evaluation(Runtime(evaluation_settings))),
                                    evaluation_settings, "127.0.0.1:0"))
    settlement_settings = settings.model_copy(update={"auth_identity": "settlement"})
    stack.append(await start_server(settlement_spec(build_settlement(Runtime(settlement_settings))),
                                    settlement_settings, "127.0.0.1:0"))
    try:
        lists, levels = _lists()
        a = lists[0]
        b = next(r for r in lists if r["fixmedins_code"] != a["fixmedins_code"])
        province = token(auth_dir, "province", "ops")
        async with tls_channel(auth_dir, collection_address, province) as channel:
            stub = cgrpc.CollectionServiceStub(channel)
            for request in lists:
                await stub.UploadSettlementList(cpb.UploadSettlementListRequest(upload=_upload(request)))
            stored = await stub.GetSettlementList(cpb.GetSettlementListRequest(
                fixmedins_code=a["fixmedins_code"], setl_id=a["input"]["setlinfo"]["setl_id"]))
            assert stored.region == REGION and stored.status == cpb.LIST_STATUS_ACTIVE
            await fgrpc.FeeDetailServiceStub(channel).UploadFeeDetails(fpb.UploadFeeDetailsRequest(
                fixmedins_code=a["fixmedins_code"], input_json=json.dumps({"feedetail": details_of(a)}).encode()))
        settlement_address = f"127.0.0.1:{stack[4].port}"
        async with tls_channel(auth_dir, settlement_address, province) as channel:
            settlement_run, operation, weights_sequence = await _settled(channel, stored, levels)
            entries = await lgrpc.LedgerServiceStub(channel).ListLedgerEntries(lpb.ListLedgerEntriesRequest(
                parent=f"regions/{REGION}", fixmedins_code=stored.fixmedins_code))
        async with tls_channel(auth_dir, settlement_address, token(auth_dir, "hospital", stored.fixmedins_code)) as ch:
            special_case = await xgrpc.SpecialCaseServiceStub(ch).ApplySpecialCase(_apply(stored.setl_list_id))
        evaluation_address = f"127.0.0.1:{stack[3].port}"
        async with tls_channel(auth_dir, evaluation_address, province) as channel:
            evaluation = await _evaluated(channel, stored)
        flag_ids = [await _confirmed_flag(database_url, request, stored) for request in (a, b)]
        yield World(auth_dir, collection_address, evaluation_address, settlement_address, stored,
                    b["fixmedins_code"], stored.region, a["input"]["setlinfo"]["mdtrt_id"], settlement_run,
                    evaluation.name, f"regions/{REGION}/flags/{flag_ids[0]}", operation, weights_sequence,
                    evaluation.case_feed_sequence, special_case.name, entries.ledger_entries[0].name)
    finally:
        for running in reversed(stack):
            await running.stop()


@cache
def _lists() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Clean lists of one month of REGION (stay ids of their own), and the level of each hospital."""
    params = SynthParams(region=REGION, cases=60, months=1, hospitals=3, seed=77, year=2025, scheme=scheme_id(),
                         rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    lists = [r for r, t in Generator(params, ref).lists() if not t["faults"]]
    return own_ids(lists, "T"), {h.code: h.level for h in ref.hospitals}


async def _done(channel: grpc.aio.Channel, operation: operations_pb2.Operation, result: message.Message) -> Any:
    done = await operations_pb2_grpc.OperationsStub(channel).WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 120}))
    assert done.done and not done.HasField("error"), done.error
    assert done.response.Unpack(result)
    return result


def _apply(setl_list_id: str) -> xpb.ApplySpecialCaseRequest:
    """A's application for its list (the same request_id: a replay of it answers the case as stored)."""
    return xpb.ApplySpecialCaseRequest(parent=f"regions/{REGION}", request_id="tenant-apply",
                                       special_case=xpb.SpecialCase(setl_list_id=setl_list_id, reason="tenant test"))


async def _settled(channel: grpc.aio.Channel, a: cpb.SettlementList, levels: dict[str, int]) -> tuple[str, str, int]:
    """A finished settlement run of A's month (the policy's weights from the same year's cases): the run, its
    operation and the case feed sequence of the weights."""
    stub = sgrpc.SettlementServiceStub(channel)
    policy = await stub.CreatePolicy(spb.CreatePolicyRequest(parent=f"regions/{REGION}", policy=spb.Policy(
        year=a.settlement_month.year, parameters_json=json.dumps(POLICY), hospital_levels=levels)))
    await stub.ActivatePolicy(spb.ActivatePolicyRequest(name=policy.name, approved_by="tenant test"))
    weights = await _done(channel, await stub.ComputeWeights(spb.ComputeWeightsRequest(
        parent=f"regions/{REGION}", weight_table=spb.WeightTable(year=a.settlement_month.year))), spb.WeightTable())
    operation = await stub.StartSettlementRun(spb.StartSettlementRunRequest(
        parent=f"regions/{REGION}", settlement_run=spb.SettlementRun(settlement_period=a.settlement_month)))
    run = await _done(channel, operation, spb.SettlementRun())
    return str(run.name), str(operation.name), int(weights.case_feed_sequence)


async def _confirmed_flag(database_url: str, request: dict[str, Any], a: cpb.SettlementList,
                          state: str = "CONFIRMED") -> int:
    """A confirmed flag (or one in ``state``) of the list's stay, stored as a review run stores one (the tenant
    rules are the subject here, not the review rules that find flags)."""
    s = request["input"]["setlinfo"]
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "INSERT INTO review.flag (region, run_name, rule_set, fixmedins_code, setl_id, mdtrt_id, psn_no, period, "
            "rule_id, rule_version, rule_name, category, severity, found_fen, amount_fen, evidence, lines, "
            "related_setl_id, state, fingerprint) VALUES ($1, 'tenant-test', 'tenant-test', $2, $3, $4, $5, $6, "
            "'R-DUP', '1', 'duplicate charge', 'duplicate_charge', 'error', 1200, 1200, 'twice', '[]', '', "
            "$7, $3 || $7) RETURNING flag_id",
            REGION, request["fixmedins_code"], s["setl_id"], s["mdtrt_id"], s["psn_no"],
            f"{a.settlement_month.year}-{a.settlement_month.month:02d}", state))
    finally:
        await conn.close()


def _evaluation_start(a: cpb.SettlementList, sequence: int = 0) -> epb.StartEvaluationRunRequest:
    """The evaluation run of A's month, with weights given (it needs no settlement service); at ``sequence``, the
    run of the world (started again, the same run)."""
    return epb.StartEvaluationRunRequest(parent=f"regions/{REGION}", evaluation_run=epb.EvaluationRun(
        period=epb.EvaluationPeriod(year=a.settlement_month.year, kind=epb.PERIOD_KIND_MONTH,
                                    number=a.settlement_month.month),
        weights=[epb.GroupWeight(group="FM19", rw="1.0000")], case_feed_sequence=sequence))


async def _evaluated(channel: grpc.aio.Channel, a: cpb.SettlementList) -> epb.EvaluationRun:
    """A finished evaluation run of A's month."""
    result: epb.EvaluationRun = await _done(
        channel, await egrpc.EvaluationServiceStub(channel).StartEvaluationRun(_evaluation_start(a)),
        epb.EvaluationRun())
    return result


def _upload(request: dict[str, Any], request_id: str = "") -> cpb.SettlementListUpload:
    return cpb.SettlementListUpload(request_id=request_id, fixmedins_code=request["fixmedins_code"],
                                    fixmedins_name=request["fixmedins_name"],
                                    input_json=json.dumps(request["input"], ensure_ascii=False).encode())


Call = Callable[[World, grpc.aio.Channel], Awaitable[Any]]


def _month(w: World) -> date_pb2.Date:
    return w.a.settlement_month


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


async def _revoke_and_restore(w: World, channel: grpc.aio.Channel) -> None:
    stub = cgrpc.CollectionServiceStub(channel)
    await stub.RevokeSettlementList(cpb.RevokeSettlementListRequest(name=w.a.name, reason="tenant test"))
    await stub.RestoreSettlementList(cpb.RestoreSettlementListRequest(name=w.a.name, reason="tenant test"))


async def _batch_upload(w: World, channel: grpc.aio.Channel) -> message.Message:
    """A batch of A's list: a list the caller may not upload is answered per item (the others of a batch stand);
    that answer is raised here as the status a single upload gets."""
    async def one() -> AsyncIterator[cpb.BatchUploadSettlementListsRequest]:
        yield cpb.BatchUploadSettlementListsRequest(upload=cpb.SettlementListUpload(
            fixmedins_code=w.a.fixmedins_code, fixmedins_name="A", input_json=w.a.input_json))

    reply = await cgrpc.CollectionServiceStub(channel).BatchUploadSettlementLists(one())
    denied = [r.error for r in reply.results if r.error.startswith("TENANT_MISMATCH")]
    if denied:
        raise grpc.aio.AioRpcError(grpc.StatusCode.PERMISSION_DENIED, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                   details=denied[0])
    assert reply.accepted_count == 1, reply
    return reply


def _record_of(w: World) -> bytes:
    """A 2304 record of hospital A for a stay no list names (it waits; sent again it is UNCHANGED)."""
    return orjson.dumps({"infno": "2304", "fixmedins_code": w.a.fixmedins_code, "setlinfo": {
        "setl_id": "TENANT-RECORD-1", "psn_no": w.a.psn_no, "mdtrt_id": "TENANT-MDTRT-1", "medfee_sumamt": "100.00",
        "fund_pay_sumamt": "60.00"}})


CALLS: dict[str, tuple[str, Call]] = {
    "CollectionService/GetSettlementList": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                            .GetSettlementList(cpb.GetSettlementListRequest(name=w.a.name))),
    "CollectionService/ListSettlementLists": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                              .ListSettlementLists(cpb.ListSettlementListsRequest(
                                                  fixmedins_code=w.a.fixmedins_code))),
    "CollectionService/RevokeSettlementList": ("collection", _revoke_and_restore),
    "CollectionService/RestoreSettlementList": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                                .RestoreSettlementList(cpb.RestoreSettlementListRequest(
                                                    name=w.a.name, reason="tenant test"))),
    "CollectionService/ListPendingItems": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                           .ListPendingItems(cpb.ListPendingItemsRequest(
                                               fixmedins_code=w.a.fixmedins_code))),
    "CollectionService/ListUploadStatistics": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                               .ListUploadStatistics(cpb.ListUploadStatisticsRequest(
                                                   region=w.region, upload_dates=common_pb2.DateRange(
                                                       start_date=date_pb2.Date(year=2020, month=1, day=1))))),
    "CollectionService/UploadSettlementRecords": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                                  .UploadSettlementRecords(cpb.UploadSettlementRecordsRequest(
                                                      request_id="tenant-record", records=[_record_of(w)]))),
    "CollectionService/UploadSettlementList": ("collection", lambda w, ch: cgrpc.CollectionServiceStub(ch)
                                               .UploadSettlementList(cpb.UploadSettlementListRequest(
                                                   upload=cpb.SettlementListUpload(
                                                       fixmedins_code=w.a.fixmedins_code, fixmedins_name="A",
                                                       input_json=w.a.input_json or b"{}")))),
    "CollectionService/BatchUploadSettlementLists": ("collection", _batch_upload),
    "CollectionService/StreamCases": ("collection", lambda w, ch: _drain(cgrpc.CollectionServiceStub(ch)
                                                                         .StreamCases(cpb.StreamCasesRequest(
                                                                             region=w.region)))),
    "CollectionService/StreamCaseEvents": ("collection", lambda w, ch: _drain(
        cgrpc.CollectionServiceStub(ch).StreamCaseEvents(cpb.StreamCaseEventsRequest(region=w.region)))),
    "FeeDetailService/GetStayFeeDetails": ("collection", lambda w, ch: fgrpc.FeeDetailServiceStub(ch)
                                           .GetStayFeeDetails(fpb.GetStayFeeDetailsRequest(
                                               fixmedins_code=w.a.fixmedins_code, mdtrt_id=w.mdtrt_id))),
    "FeeDetailService/UploadFeeDetails": ("collection", lambda w, ch: fgrpc.FeeDetailServiceStub(ch)
                                          .UploadFeeDetails(fpb.UploadFeeDetailsRequest(
                                              fixmedins_code=w.a.fixmedins_code, input_json=b'{"feedetail": []}'))),
    "FeeDetailService/RevokeFeeDetails": ("collection", lambda w, ch: fgrpc.FeeDetailServiceStub(ch)
                                          .RevokeFeeDetails(fpb.RevokeFeeDetailsRequest(
                                              fixmedins_code=w.a.fixmedins_code, mdtrt_id="no-such-stay",
                                              feedetl_sn="1"))),
    "FeeDetailService/StreamFeeDetails": ("collection", lambda w, ch: _drain(
        fgrpc.FeeDetailServiceStub(ch).StreamFeeDetails(fpb.StreamFeeDetailsRequest(
            region=w.region, settlement_periods=[_month(w)])))),
    "ReviewService/ListFlags": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).ListFlags(
        rpb.ListFlagsRequest(parent=f"regions/{w.region}", fixmedins_code=w.a.fixmedins_code))),
    "ReviewService/CheckStay": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).CheckStay(
        rpb.CheckStayRequest(stay=rpb.Stay(fixmedins_code=w.a.fixmedins_code, setl_id="s1"),
                             stage=rpb.STAGE_DURING))),
    "ReviewService/GetFlag": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).GetFlag(
        rpb.GetFlagRequest(name=w.flag))),
    "ReviewService/ListDeductions": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).ListDeductions(
        rpb.ListDeductionsRequest(parent=f"regions/{w.region}", settlement_period=_month(w)))),
    "EvaluationService/GetHospitalScorecard": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                               .GetHospitalScorecard(epb.GetHospitalScorecardRequest(
                                                   name=f"{w.evaluation_run}/hospitalScorecards/"
                                                        f"{w.a.fixmedins_code}"))),
    "EvaluationService/ListEvaluationRuns": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                             .ListEvaluationRuns(epb.ListEvaluationRunsRequest(
                                                 parent=f"regions/{w.region}"))),
    "SettlementService/ListHospitalStatements": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                                 .ListHospitalStatements(spb.ListHospitalStatementsRequest(
                                                     parent=w.settlement_run))),
    "SettlementService/GetCaseSettlement": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                            .GetCaseSettlement(spb.GetCaseSettlementRequest(
                                                name=f"{w.settlement_run}/caseSettlements/{w.a.setl_list_id}"))),
    "SettlementService/ListCaseSettlements": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                              .ListCaseSettlements(spb.ListCaseSettlementsRequest(
                                                  parent=w.settlement_run, fixmedins_code=w.a.fixmedins_code))),
    "SettlementService/GetSettlementRun": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                           .GetSettlementRun(spb.GetSettlementRunRequest(name=w.settlement_run))),
    "SettlementService/ListSettlementRuns": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                             .ListSettlementRuns(spb.ListSettlementRunsRequest(
                                                 parent=f"regions/{w.region}"))),
    "SettlementService/StartSettlementRun": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch)
                                             .StartSettlementRun(spb.StartSettlementRunRequest(
                                                 parent=f"regions/{w.region}", settlement_run=spb.SettlementRun(
                                                     settlement_period=_month(w))))),  # settled already: no new run
    "SettlementService/CreatePolicy": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch).CreatePolicy(
        spb.CreatePolicyRequest(parent=f"regions/{w.region}", policy=spb.Policy(
            year=w.a.settlement_month.year, parameters_json=json.dumps(POLICY))))),  # a draft: nothing in force
    "LedgerService/ListLedgerAccounts": ("settlement", lambda w, ch: lgrpc.LedgerServiceStub(ch)
                                         .ListLedgerAccounts(lpb.ListLedgerAccountsRequest(
                                             parent=f"regions/{w.region}", fixmedins_code=w.a.fixmedins_code))),
    "LedgerService/ListLedgerEntries": ("settlement", lambda w, ch: lgrpc.LedgerServiceStub(ch)
                                        .ListLedgerEntries(lpb.ListLedgerEntriesRequest(
                                            parent=f"regions/{w.region}", fixmedins_code=w.a.fixmedins_code))),
    "SpecialCaseService/ListSpecialCases": ("settlement", lambda w, ch: xgrpc.SpecialCaseServiceStub(ch)
                                            .ListSpecialCases(xpb.ListSpecialCasesRequest(
                                                parent=f"regions/{w.region}", fixmedins_code=w.a.fixmedins_code))),
    "EvaluationService/GetEvaluationRun": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                           .GetEvaluationRun(epb.GetEvaluationRunRequest(name=w.evaluation_run))),
    "EvaluationService/ListIndicators": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                         .ListIndicators(epb.ListIndicatorsRequest(parent=w.evaluation_run))),
    "EvaluationService/ListGroupProfiles": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                            .ListGroupProfiles(epb.ListGroupProfilesRequest(
                                                parent=w.evaluation_run))),
    "ReviewService/ListReviewRuns": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).ListReviewRuns(
        rpb.ListReviewRunsRequest(parent=f"regions/{w.region}"))),
    "ReviewService/ListRuleStatistics": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).ListRuleStatistics(
        rpb.ListRuleStatisticsRequest(parent=f"regions/{w.region}"))),
    # An appeal without a reason: refused for that (INVALID_ARGUMENT) only once the flag is found to be the
    # caller's; the flag stays as it is (test_a_hospital_appeals_its_own_flag_only takes a real step).
    "ReviewService/ReviewFlag": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).ReviewFlag(
        rpb.ReviewFlagRequest(name=w.flag, step=rpb.REVIEW_STEP_APPEAL))),
    # No settlement period: INVALID_ARGUMENT after the region check (a review run would add flags to A's lists).
    "ReviewService/StartReviewRun": ("evaluation", lambda w, ch: rgrpc.ReviewServiceStub(ch).StartReviewRun(
        rpb.StartReviewRunRequest(parent=f"regions/{w.region}"))),
    "EvaluationService/StartEvaluationRun": ("evaluation", lambda w, ch: egrpc.EvaluationServiceStub(ch)
                                             .StartEvaluationRun(_evaluation_start(w.a, w.evaluation_sequence))),
    "SettlementService/ComputeWeights": ("settlement", lambda w, ch: sgrpc.SettlementServiceStub(ch).ComputeWeights(
        spb.ComputeWeightsRequest(parent=f"regions/{w.region}", weight_table=spb.WeightTable(
            year=w.a.settlement_month.year, case_feed_sequence=w.weights_sequence)))),  # the world's run again
    "Operations/GetOperation": ("settlement", lambda w, ch: operations_pb2_grpc.OperationsStub(ch).GetOperation(
        operations_pb2.GetOperationRequest(name=w.operation))),
    "LedgerService/GetLedgerEntry": ("settlement", lambda w, ch: lgrpc.LedgerServiceStub(ch).GetLedgerEntry(
        lpb.GetLedgerEntryRequest(name=w.ledger_entry))),
    "LedgerService/ReverseLedgerEntry": ("settlement", lambda w, ch: lgrpc.LedgerServiceStub(ch).ReverseLedgerEntry(
        lpb.ReverseLedgerEntryRequest(name=w.ledger_entry, reason="tenant test", request_id="tenant-reverse"))),
    "SpecialCaseService/GetSpecialCase": ("settlement", lambda w, ch: xgrpc.SpecialCaseServiceStub(ch)
                                          .GetSpecialCase(xpb.GetSpecialCaseRequest(name=w.special_case))),
    "SpecialCaseService/ApplySpecialCase": ("settlement", lambda w, ch: xgrpc.SpecialCaseServiceStub(ch)
                                            .ApplySpecialCase(_apply(w.a.setl_list_id))),  # a replay for A
    "SpecialCaseService/ApproveSpecialCase": ("settlement", lambda w, ch: xgrpc.SpecialCaseServiceStub(ch)
                                              .ApproveSpecialCase(xpb.ApproveSpecialCaseRequest(
                                                  name=w.special_case, note="tenant test",
                                                  request_id="tenant-approve"))),
    "SpecialCaseService/RejectSpecialCase": ("settlement", lambda w, ch: xgrpc.SpecialCaseServiceStub(ch)
                                             .RejectSpecialCase(xpb.RejectSpecialCaseRequest(
                                                 name=w.special_case, note="tenant test",
                                                 request_id="tenant-reject"))),
}
"""Every RPC that reads or changes one hospital's or one region's data, called on hospital A's data."""

FILTERED = {"ReviewService/ListDeductions", "SettlementService/ListHospitalStatements",
            "EvaluationService/ListIndicators"}
"""Region-wide answers a hospital may ask for, filtered to its own rows (or hidden): not refused outright, and
never naming hospital A."""

SUCCEEDS = {
    "CollectionService/GetSettlementList", "CollectionService/ListSettlementLists",
    "CollectionService/ListUploadStatistics", "FeeDetailService/GetStayFeeDetails",
    "ReviewService/GetFlag", "ReviewService/ListFlags", "ReviewService/ListDeductions", "ReviewService/ListReviewRuns",
    "ReviewService/ListRuleStatistics", "EvaluationService/GetHospitalScorecard", "EvaluationService/GetEvaluationRun",
    "EvaluationService/ListIndicators", "EvaluationService/ListGroupProfiles", "EvaluationService/ListEvaluationRuns",
    "SettlementService/GetCaseSettlement", "SettlementService/ListCaseSettlements",
    "SettlementService/ListHospitalStatements", "SettlementService/GetSettlementRun",
    "SettlementService/ListSettlementRuns", "SettlementService/CreatePolicy", "LedgerService/ListLedgerAccounts",
    "LedgerService/ListLedgerEntries",
    "SpecialCaseService/ListSpecialCases", "SpecialCaseService/GetSpecialCase", "LedgerService/GetLedgerEntry",
    "Operations/GetOperation", "SettlementService/ComputeWeights", "EvaluationService/StartEvaluationRun",
    "SpecialCaseService/ApplySpecialCase",
}
"""Reads of data that exists (and a policy draft): a caller allowed A's data gets it (so "other tenant refused" is
refused for being the other tenant, not for asking after nothing)."""


def _caller(w: World, role: Role, own: bool) -> tuple[str, str]:
    """(token, certificate identity) of a caller of ``role`` that is (or is not) hospital A's tenant."""
    if role is Role.HOSPITAL:
        return token(w.auth_dir, role, w.a.fixmedins_code if own else w.b_code), "client"
    if role is Role.PREFECTURE:
        return token(w.auth_dir, role, w.region if own else OTHER_PREFECTURE), "client"
    if role is Role.SERVICE:
        return token(w.auth_dir, role, "settlement"), "settlement"
    return token(w.auth_dir, role, "ops"), "client"


def _expected(method: str, role: Role, own: bool) -> str:
    service = {"Review": "medpay.review.v1", "Evaluation": "medpay.evaluation.v1", "Settlement": "medpay.settlement.v1",
               "Ledger": "medpay.settlement.v1", "SpecialCase": "medpay.settlement.v1",
               "Operations/GetOperation": "google.longrunning",
               }.get(method.partition("Service")[0], "medpay.collection.v1")
    roles = services().access_table()[f"/{service}.{method}"]
    if role not in roles:
        return "refused"
    if own or role in (Role.PROVINCE, Role.SERVICE):
        return "allowed"
    if role is Role.HOSPITAL and method in FILTERED:
        return "allowed"
    return "denied"


CASES = [(method, role, own) for method in CALLS for role in Role for own in (True, False)]


@pytest.mark.parametrize(("method", "role", "own"), CASES,
                         ids=[f"{m.split('/')[1]}-{r.value}-{'own' if o else 'other'}" for m, r, o in CASES])
async def test_tenant_isolation(world: World, method: str, role: Role, own: bool) -> None:
    target, call = CALLS[method]
    bearer, identity = _caller(world, role, own)
    address = {"collection": world.collection, "evaluation": world.evaluation, "settlement": world.settlement}[target]
    expected = _expected(method, role, own)
    async with tls_channel(world.auth_dir, address, bearer, identity=identity) as channel:
        answer = None
        try:
            answer = await call(world, channel)
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as failed:
            code = failed.code()
    if expected == "refused":
        assert code is grpc.StatusCode.PERMISSION_DENIED, f"{role} may not call {method}, got {code}"
    elif expected == "denied":
        assert code in DENIED, f"{role} of another tenant reached A's data through {method} ({code})"
    elif method in SUCCEEDS and not (role is Role.HOSPITAL and not own):
        assert code is grpc.StatusCode.OK, f"{role} ({'own' if own else 'other'}) could not read {method} ({code})"
    else:
        assert code not in REFUSED, f"{role} ({'own' if own else 'other'}) was refused {method} ({code})"
    if expected == "allowed" and role is Role.HOSPITAL and not own:
        assert world.a.fixmedins_code not in str(answer), f"{method} showed hospital A's rows to hospital B"


async def test_a_hospital_sees_only_its_own_rows_of_region_wide_answers(world: World) -> None:
    async with tls_channel(world.auth_dir, world.collection, token(world.auth_dir, "hospital", world.b_code)) as ch:
        page = await cgrpc.CollectionServiceStub(ch).ListSettlementLists(cpb.ListSettlementListsRequest())
    assert page.settlement_lists and {s.fixmedins_code for s in page.settlement_lists} == {world.b_code}
    async with tls_channel(world.auth_dir, world.collection, token(world.auth_dir, "province", "ops")) as ch:
        everyone = await cgrpc.CollectionServiceStub(ch).ListSettlementLists(cpb.ListSettlementListsRequest())
    assert {world.a.fixmedins_code, world.b_code} <= {s.fixmedins_code for s in everyone.settlement_lists}


async def test_a_hospital_appeals_its_own_flag_only(world: World, database_url: str) -> None:
    """The workflow step the table calls without a reason, taken on a re-reviewed flag of B's: B appeals it; A
    cannot see it to appeal."""
    b = next(r for r in _lists()[0] if r["fixmedins_code"] == world.b_code)
    flag_id = await _confirmed_flag(database_url, b, world.a, "RE_REVIEWED")
    appeal = rpb.ReviewFlagRequest(name=f"regions/{REGION}/flags/{flag_id}", step=rpb.REVIEW_STEP_APPEAL,
                                   reason="the charge was once")
    async with tls_channel(world.auth_dir, world.evaluation,
                           token(world.auth_dir, "hospital", world.a.fixmedins_code)) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rgrpc.ReviewServiceStub(channel).ReviewFlag(appeal)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    async with tls_channel(world.auth_dir, world.evaluation, token(world.auth_dir, "hospital", world.b_code)) as ch:
        flag = await rgrpc.ReviewServiceStub(ch).ReviewFlag(appeal)
    assert flag.state == rpb.FLAG_STATE_APPEALED and flag.fixmedins_code == world.b_code


async def test_request_ids_are_scoped_by_institution(world: World) -> None:
    """Hospital A's request_id does not block hospital B's upload with the same request_id."""
    lists = own_ids(copy.deepcopy(_lists()[0]), "RQ")  # stays the world did not store
    a = next(r for r in lists if r["fixmedins_code"] == world.a.fixmedins_code)
    b = next(r for r in lists if r["fixmedins_code"] == world.b_code)
    replies = []
    for request in (a, b):
        bearer = token(world.auth_dir, "hospital", request["fixmedins_code"])
        async with tls_channel(world.auth_dir, world.collection, bearer) as channel:
            replies.append(await cgrpc.CollectionServiceStub(channel).UploadSettlementList(
                cpb.UploadSettlementListRequest(upload=_upload(request, "shared-request-7"))))
    assert replies[0].setl_list_id != replies[1].setl_list_id


async def test_status_changes_are_audited_with_actor_and_request_id_and_the_log_is_append_only(
        world: World, database_url: str) -> None:
    import asyncpg

    bearer = token(world.auth_dir, "hospital", world.a.fixmedins_code)
    async with tls_channel(world.auth_dir, world.collection, bearer) as channel:
        stub = cgrpc.CollectionServiceStub(channel)
        await stub.RevokeSettlementList(cpb.RevokeSettlementListRequest(name=world.a.name, reason="duplicate"),
                                        metadata=(("x-request-id", "audit-revoke-1"),))
        await stub.RestoreSettlementList(cpb.RestoreSettlementListRequest(name=world.a.name, reason="not a dup"),
                                         metadata=(("x-request-id", "audit-restore-1"),))
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT actor, action, fixmedins_code, region, request_id, detail FROM collection.audit_log "
            "WHERE request_id LIKE 'audit-%' ORDER BY id")
        assert [(r["actor"], r["action"], r["request_id"]) for r in rows] == [
            (f"hospital:{world.a.fixmedins_code}", "settlement_list.revoke", "audit-revoke-1"),
            (f"hospital:{world.a.fixmedins_code}", "settlement_list.restore", "audit-restore-1")]
        assert rows[0]["fixmedins_code"] == world.a.fixmedins_code and rows[0]["region"] == world.region
        assert json.loads(rows[0]["detail"])["reason"] == "duplicate"
        for statement in ("UPDATE collection.audit_log SET actor = 'someone else'",
                          "DELETE FROM collection.audit_log", "TRUNCATE collection.audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await connection.execute(statement)
    finally:
        await connection.close()
