"""The QC pass rate over real servers: lists of a prefecture of this module's own uploaded through the national
door (most accepted, some rejected by quality control, one uploaded again as a new revision, one stored waiting for
its settlement record and rejected when it met it), collection's
ListUploadStatistics counting the attempts per institution, and an evaluation run putting the rate of each hospital
and of the region into its data-quality figures. With a settlement server on the same lists: a half year, which has
no settlement run, is evaluated against the weight table of its year's advance run without weights given."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.common.v1 import common_pb2
from medpay.evaluation.v1 import evaluation_service_pb2 as pb
from medpay.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc
from medpay.settlement.v1 import settlement_pb2 as spb
from medpay.settlement.v1 import settlement_pb2_grpc as sgrpc

from libs.common.dates import Period, date_to_proto
from libs.common.grpc.server import RunningServer, start_server
from libs.common.runtime import Runtime
from services.evaluation.bootstrap import build_app, service_spec
from services.settlement.bootstrap import build_app as build_settlement
from services.settlement.bootstrap import service_spec as settlement_spec
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import reference_dir
from .his import his_form, settlement_record
from .lists import own_ids, post_all, scheme_id
from .rpc_errors import error_info

REGION = "330900"
"""A prefecture no other test uploads to: every attempt of its institutions is this module's."""
_TWO_MONTHS_AGO = (datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1) - timedelta(days=32)).replace(day=1)
YEAR, MONTH = _TWO_MONTHS_AGO.year, _TWO_MONTHS_AGO.month
"""The month evaluated: recent enough that an upload deadline (at most 365 days) reaches today's uploads."""
REJECTED = (1, 2, 3)
"""Rejected uploads of the first, second and third hospital."""


@dataclass
class Uploaded:
    collection: collection_grpc.CollectionServiceStub
    evaluation: pb_grpc.EvaluationServiceStub
    operations: operations_pb2_grpc.OperationsStub
    settlement: sgrpc.SettlementServiceStub
    settlement_operations: operations_pb2_grpc.OperationsStub
    levels: dict[str, int]
    received: dict[str, int]
    passed: dict[str, int]
    today: date


def _rejected(request: dict[str, Any], n: int) -> dict[str, Any]:
    """The list without a principal diagnosis (QC-DX-001, an ERROR), under a message id of its own."""
    bad = copy.deepcopy(request)
    bad["msgid"] = f"{bad['msgid'][:-4]}9{n:03d}"
    for diagnosis in bad["input"]["diseinfo"]:
        diagnosis["maindiag_flag"] = "0"
    return bad


@pytest.fixture(scope="module")
async def uploaded(runtime: Runtime, coding_server: RunningServer, collection_app: Any) -> AsyncIterator[Uploaded]:
    running_collection, http_base, _ = collection_app
    params = SynthParams(region=REGION, cases=40, months=1, hospitals=3, seed=23, year=YEAR, first_month=MONTH,
                         scheme=scheme_id(), rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    clean = own_ids([r for r, t in Generator(params, ref).lists() if not t["faults"]], "Q")
    hospitals = sorted({r["fixmedins_code"] for r in clean})
    assert len(hospitals) == 3
    first_of = {code: next(r for r in clean if r["fixmedins_code"] == code) for code in hospitals}
    again = copy.deepcopy(first_of[hospitals[0]])  # the same stay again: a second revision, accepted
    again["msgid"] = f"{again['msgid'][:-4]}8001"
    bad = [_rejected(first_of[code], n) for code, count in zip(hospitals, REJECTED, strict=True)
           for n in range(count)]
    replies = await post_all(http_base, clean + bad)
    replies += await post_all(http_base, [again])
    # A stay of the second hospital sent in the HIS form: stored PENDING, then rejected when its settlement record
    # names another person (QC-REC-001, an ERROR): an attempt that did not pass.
    joined = own_ids([copy.deepcopy(first_of[hospitals[1]])], "J")[0]
    joined["msgid"] = f"{joined['msgid'][:-4]}7001"
    [pending] = await post_all(http_base, [his_form(joined)])
    assert pending["infcode"] == 0 and pending["output"]["status"] == "PENDING", pending.get("err_msg")
    other = next(r for r in clean if r["input"]["setlinfo"]["psn_no"] != joined["input"]["setlinfo"]["psn_no"])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as channel:
        stub = collection_grpc.CollectionServiceStub(channel)
        await stub.UploadSettlementRecords(collection_pb.UploadSettlementRecordsRequest(records=[json.dumps(
            settlement_record(joined, psn_no=other["input"]["setlinfo"]["psn_no"]), ensure_ascii=False).encode()]))
        stored = await stub.GetSettlementList(collection_pb.GetSettlementListRequest(
            fixmedins_code=joined["fixmedins_code"], setl_id=joined["input"]["setlinfo"]["setl_id"]))
    assert stored.status == collection_pb.LIST_STATUS_REJECTED, stored.status
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    received = {code: 0 for code in hospitals}
    passed = {code: 0 for code in hospitals}
    for request, reply in zip([*clean, *bad, again], replies, strict=True):
        code = request["fixmedins_code"]
        received[code] += 1
        passed[code] += reply["infcode"] == 0
    received[hospitals[1]] += 1  # the list rejected when it met its record
    assert all(r["infcode"] != 0 for r in replies[len(clean):len(clean) + len(bad)])  # the rejected ones
    assert sum(received.values()) - sum(passed.values()) == sum(REJECTED) + 1, [
        (r.get("infcode"), str(r)[:300]) for r in replies if r["infcode"] != 0]
    settings = runtime.settings.model_copy(update={"coding_address": f"127.0.0.1:{coding_server.port}",
                                                   "collection_address": f"127.0.0.1:{running_collection.port}"})
    settling = await start_server(settlement_spec(build_settlement(Runtime(settings))), settings, "127.0.0.1:0")
    settings = settings.model_copy(update={"settlement_address": f"127.0.0.1:{settling.port}"})
    app = await build_app(Runtime(settings))
    running = await start_server(service_spec(app), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as collection, \
            grpc.aio.insecure_channel(f"127.0.0.1:{settling.port}") as settlement:
        yield Uploaded(collection_grpc.CollectionServiceStub(collection), pb_grpc.EvaluationServiceStub(channel),
                       operations_pb2_grpc.OperationsStub(channel), sgrpc.SettlementServiceStub(settlement),
                       operations_pb2_grpc.OperationsStub(settlement), {h.code: h.level for h in ref.hospitals},
                       received, passed, today)
    await running.stop()
    await settling.stop()


def rate(passed: int, received: int) -> str:
    return str((Decimal(passed) / Decimal(received)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _request(today: date, **fields: Any) -> collection_pb.ListUploadStatisticsRequest:
    dates = common_pb2.DateRange(start_date=date_to_proto(today - timedelta(days=1)),
                                 end_date=date_to_proto(today + timedelta(days=1)))
    return collection_pb.ListUploadStatisticsRequest(**{"region": REGION, "upload_dates": dates, **fields})


async def test_collection_counts_each_institutions_attempts_and_those_that_passed(uploaded: Uploaded) -> None:
    rows, token, pages = [], "", 0
    while True:
        page = await uploaded.collection.ListUploadStatistics(_request(uploaded.today, page_size=2, page_token=token))
        rows += page.upload_statistics
        token, pages = page.next_page_token, pages + 1
        if not token:
            break
    assert pages == 2 and [r.fixmedins_code for r in rows] == sorted(uploaded.received)
    for row in rows:
        code = row.fixmedins_code
        assert (row.uploads_received, row.uploads_passed) == (uploaded.received[code], uploaded.passed[code])
        assert row.uploads_rejected == row.uploads_received - row.uploads_passed
        assert row.qc_pass_rate == rate(uploaded.passed[code], uploaded.received[code])
    assert [r.uploads_rejected for r in rows] == [REJECTED[0], REJECTED[1] + 1, REJECTED[2]]

    first = sorted(uploaded.received)[0]
    one = await uploaded.collection.ListUploadStatistics(_request(uploaded.today, fixmedins_code=first))
    assert [r.fixmedins_code for r in one.upload_statistics] == [first]
    later = common_pb2.DateRange(start_date=date_to_proto(uploaded.today + timedelta(days=1)))
    none = await uploaded.collection.ListUploadStatistics(collection_pb.ListUploadStatisticsRequest(
        region=REGION, upload_dates=later))
    assert not none.upload_statistics  # nothing received from tomorrow on


@pytest.mark.parametrize(("fields", "field"), [
    ({"region": "3309"}, "region"),
    ({"upload_dates": common_pb2.DateRange()}, "upload_dates.start_date"),
    ({"upload_dates": common_pb2.DateRange(start_date=date_to_proto(date(2025, 3, 2)),
                                           end_date=date_to_proto(date(2025, 3, 1)))}, "upload_dates.end_date"),
    ({"fixmedins_code": "H33070300089"}, "fixmedins_code"),
    ({"page_token": "forged"}, "page_token"),
])
async def test_bad_requests_name_their_field(uploaded: Uploaded, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await uploaded.collection.ListUploadStatistics(_request(uploaded.today, **fields))
    assert failed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    info, bad = error_info(failed.value)
    assert info.reason == ("INVALID_PAGE_TOKEN" if field == "page_token" else "INVALID_FIELD")
    assert [v.field for v in bad.field_violations] == [field]


async def test_an_evaluation_run_reports_the_qc_pass_rate_of_each_hospital_and_the_region(uploaded: Uploaded) -> None:
    # The run's upload window is the month and the deadline after it: long enough here to reach today's uploads.
    deadline = (uploaded.today - (date(YEAR, MONTH, 28) + timedelta(days=4)).replace(day=1)).days + 2
    operation = await uploaded.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
        parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(
            period=pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_MONTH, number=MONTH),
            upload_deadline_days=deadline, weights=[pb.GroupWeight(group="ZZ99", rw="1")])))
    done = await uploaded.operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 60}))
    assert done.done and not done.HasField("error"), done.error
    run = pb.EvaluationRun()
    assert done.response.Unpack(run)
    assert run.versions["upload_dates"] == f"{YEAR}-{MONTH:02d}-01/{uploaded.today + timedelta(days=1)}"

    page = await uploaded.evaluation.ListIndicators(pb.ListIndicatorsRequest(parent=run.name, page_size=100))
    region = next(i for i in page.indicators if i.level == pb.UNIT_LEVEL_REGION)
    total, good = sum(uploaded.received.values()), sum(uploaded.passed.values())
    assert (region.quality.lists_received, region.quality.qc_pass_rate) == (total, rate(good, total))
    hospitals = {i.unit: i.quality for i in page.indicators if i.level == pb.UNIT_LEVEL_HOSPITAL}
    assert sorted(hospitals) == sorted(uploaded.received)
    for code, quality in hospitals.items():
        assert quality.lists_received == uploaded.received[code]
        assert quality.qc_pass_rate == rate(uploaded.passed[code], uploaded.received[code])


async def _finished(operations: operations_pb2_grpc.OperationsStub, operation: operations_pb2.Operation,
                    result: Any) -> Any:
    done = await operations.WaitOperation(operations_pb2.WaitOperationRequest(name=operation.name,
                                                                              timeout={"seconds": 120}))
    assert done.done and not done.HasField("error"), done.error
    assert done.response.Unpack(result)
    return result


async def test_a_half_year_is_evaluated_against_its_years_advance_run_weight_table(uploaded: Uploaded) -> None:
    parent, month = f"regions/{REGION}", Period(YEAR, MONTH).to_proto()
    policy = await uploaded.settlement.CreatePolicy(spb.CreatePolicyRequest(parent=parent, policy=spb.Policy(
        year=YEAR, hospital_levels=uploaded.levels, parameters_json=json.dumps({
            "method": "points", "weights": {"years": [YEAR]}, "budget": "1000000.00",
            "levels": {"1": {"coefficient": "0.85"}, "2": {"coefficient": "0.92"}, "3": {"coefficient": "1.00"}}}))))
    await uploaded.settlement.ActivatePolicy(spb.ActivatePolicyRequest(name=policy.name, approved_by="qc test"))
    await _finished(uploaded.settlement_operations, await uploaded.settlement.ComputeWeights(
        spb.ComputeWeightsRequest(parent=parent, weight_table=spb.WeightTable(year=YEAR))), spb.WeightTable())
    advance = await _finished(uploaded.settlement_operations, await uploaded.settlement.StartSettlementRun(
        spb.StartSettlementRunRequest(parent=parent, settlement_run=spb.SettlementRun(settlement_period=month))),
        spb.SettlementRun())
    # A later table of the year: the year's latest, but the half year takes the one its advance run settled with.
    later = await uploaded.settlement.ImportWeightTable(spb.ImportWeightTableRequest(
        parent=parent, year=YEAR, avg_all="10000",
        groups=[spb.GroupWeight(group="ZZ99", rw="1", standard_cost=common_pb2.Money(fen=100))]))
    assert later.name != advance.weight_table

    half = pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_HALF_YEAR, number=1 if MONTH <= 6 else 2)
    run = await _finished(uploaded.operations, await uploaded.evaluation.StartEvaluationRun(
        pb.StartEvaluationRunRequest(parent=parent, evaluation_run=pb.EvaluationRun(period=half))), pb.EvaluationRun())
    assert run.versions["weights"] == advance.weight_table and not run.settlement_run
    weights = [pb.GroupWeight(group=g.group, rw=g.rw) for g in (await uploaded.settlement.ListGroupWeights(
        spb.ListGroupWeightsRequest(parent=advance.weight_table, page_size=5000))).group_weights]
    given = await _finished(uploaded.operations, await uploaded.evaluation.StartEvaluationRun(
        pb.StartEvaluationRunRequest(parent=parent, evaluation_run=pb.EvaluationRun(period=half, weights=weights))),
        pb.EvaluationRun())
    figures = [(i.level, i.unit, i.cmi, i.total_weight) for i in (await uploaded.evaluation.ListIndicators(
        pb.ListIndicatorsRequest(parent=run.name, page_size=1000))).indicators]
    assert figures == [(i.level, i.unit, i.cmi, i.total_weight) for i in (await uploaded.evaluation.ListIndicators(
        pb.ListIndicatorsRequest(parent=given.name, page_size=1000))).indicators]
    region = next(f for f in figures if f[0] == pb.UNIT_LEVEL_REGION)
    assert region[2] and region[2] != "0.0000"  # the region's CMI, from the advance run's weights

    with pytest.raises(grpc.aio.AioRpcError) as failed:  # a year with neither an advance run nor a weight table
        await uploaded.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
            parent=parent, evaluation_run=pb.EvaluationRun(period=pb.EvaluationPeriod(
                year=YEAR - 3, kind=pb.PERIOD_KIND_HALF_YEAR, number=1))))
    assert failed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(failed.value)[0].reason == "WEIGHTS_NOT_FOUND"

    # Once that year has a weight table (and still no advance run) the half year takes it: the run starts, and
    # fails only for having no cases.
    await uploaded.settlement.ImportWeightTable(spb.ImportWeightTableRequest(
        parent=parent, year=YEAR - 3, avg_all="10000",
        groups=[spb.GroupWeight(group="ZZ99", rw="1", standard_cost=common_pb2.Money(fen=100))]))
    operation = await uploaded.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
        parent=parent, evaluation_run=pb.EvaluationRun(period=pb.EvaluationPeriod(
            year=YEAR - 3, kind=pb.PERIOD_KIND_HALF_YEAR, number=1))))
    done = await uploaded.operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 60}))
    assert done.done and "no active case" in done.error.message, done
