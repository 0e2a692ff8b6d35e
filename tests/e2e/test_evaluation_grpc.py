"""Evaluation runs over real servers: synthetic lists posted to collection, an evaluation run reading its case feed
as of a pinned sequence, and every indicator checked against the plain reference computed from the same cases as
collection streams them."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.common.v1 import common_pb2
from medpay.evaluation.v1 import evaluation_service_pb2 as pb
from medpay.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

from libs.common.dates import Period, date_from_proto
from libs.common.grpc.server import RunningServer, start_server
from libs.common.runtime import Runtime
from services.evaluation.bootstrap import build_app, service_spec
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..browser import Chromium, chromium, open_page
from ..support import ROOT, reference_dir
from ..unit.evaluation.reference import indicators_csv as reference_csv
from .lists import post_all, scheme_id
from .rpc_errors import error_info

__all__ = ["chromium"]
REGION, YEAR = "330700", 2019
"""A year no other test posts lists for, so the feed's cases of these months are this module's."""
LEVELS = {pb.UNIT_LEVEL_REGION: "region", pb.UNIT_LEVEL_HOSPITAL: "hospital", pb.UNIT_LEVEL_DEPARTMENT: "dept",
          pb.UNIT_LEVEL_DOCTOR: "doctor"}


@dataclass
class Posted:
    evaluation: pb_grpc.EvaluationServiceStub
    operations: operations_pb2_grpc.OperationsStub
    collection: collection_grpc.CollectionServiceStub
    accepted: int


@pytest.fixture(scope="module")
async def posted(runtime: Runtime, coding_server: RunningServer, collection_app: Any) -> AsyncIterator[Posted]:
    running_collection, http_base, _ = collection_app
    # Rich lists (patient fields and money in the list) until collection joins settlement records to HIS-form lists.
    params = SynthParams(cases=400, months=2, hospitals=6, seed=91, scheme=scheme_id(), year=YEAR, rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    replies = await post_all(http_base, [request for request, _ in Generator(params, ref).lists()])
    settings = runtime.settings.model_copy(update={"coding_address": f"127.0.0.1:{coding_server.port}",
                                                   "collection_address": f"127.0.0.1:{running_collection.port}"})
    app = await build_app(Runtime(settings))
    running = await start_server(service_spec(app), settings, "127.0.0.1:0")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as collection:
        yield Posted(pb_grpc.EvaluationServiceStub(channel), operations_pb2_grpc.OperationsStub(channel),
                     collection_grpc.CollectionServiceStub(collection), sum(r["infcode"] == 0 for r in replies))
    await running.stop()


async def feed_cases(stub: collection_grpc.CollectionServiceStub, months: list[str],
                     sequence: int) -> list[collection_pb.Case]:
    request = collection_pb.StreamCasesRequest(region=REGION, as_of_sequence=sequence,
                                               settlement_periods=[Period.parse(m).to_proto() for m in months])
    return [c async for m in stub.StreamCases(request) for c in m.cases]


def as_reference_case(case: collection_pb.Case) -> dict[str, Any]:
    """INDICATORS.md's case, read from collection's message here, independently of the service's code."""
    admitted = date_from_proto(case.admission_date, "a")
    discharged = date_from_proto(case.discharge_date, "d")
    assert admitted is not None and discharged is not None
    return {"case_id": case.setl_list_id, "hospital": case.fixmedins_code, "dept": case.department or "-",
            "doctor": case.attending_doctor or "-", "psn_no": case.psn_no,
            "group": case.groups[0].code if case.groups else "0000", "adm_date": admitted.isoformat(),
            "dscg_date": discharged.isoformat(), "los": case.los_days,
            "total_cost": f"{case.total_cost.fen // 100}.{case.total_cost.fen % 100:02d}",
            "dscg_way": case.discharge_way}


def weights_for(cases: list[dict[str, Any]]) -> dict[str, str]:
    """A weight table for the groups seen (not every group: unweighted cases must count right too)."""
    groups = sorted({c["group"] for c in cases} - {"0000"})
    return {g: f"{0.25 + (sum(map(ord, g)) % 300) / 100:.4f}" for g in groups[::5] + groups[1::5] + groups[2::5]}


async def finished(posted: Posted, operation: operations_pb2.Operation) -> pb.EvaluationRun:
    done = await posted.operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 60}))
    assert done.done and not done.HasField("error"), done.error
    run = pb.EvaluationRun()
    assert done.response.Unpack(run)
    return run


async def indicators(posted: Posted, run: str, **filters: Any) -> list[pb.Indicator]:
    rows, token = [], ""
    while True:
        page = await posted.evaluation.ListIndicators(pb.ListIndicatorsRequest(parent=run, page_size=97,
                                                                               page_token=token, **filters))
        rows += page.indicators
        token = page.next_page_token
        if not token:
            return rows


def csv_of(rows: list[pb.Indicator]) -> str:
    head = ("level,unit,cases,grouped,grouping_rate,drg_count,total_weight,cmi,time_index,cost_index,"
            "low_risk_cases,low_risk_deaths,low_risk_mortality,readmit15_rate")
    return "\n".join([head, *(",".join(str(v) for v in (
        LEVELS[r.level], r.unit, r.cases, r.grouped, r.grouping_rate, r.drg_count, r.total_weight, r.cmi,
        r.time_index, r.cost_index, r.low_risk_cases, r.low_risk_deaths, r.low_risk_mortality, r.readmit15_rate))
        for r in rows)]) + "\n"


async def test_a_run_equals_the_reference_on_the_feed_it_pinned(posted: Posted) -> None:
    months = [f"{YEAR}-01", f"{YEAR}-02"]
    head = (await posted.collection.GetCaseFeed(collection_pb.GetCaseFeedRequest())).head_sequence
    cases = [c for c in await feed_cases(posted.collection, months, head)
             if c.status == collection_pb.LIST_STATUS_ACTIVE]
    assert len(cases) == posted.accepted > 300
    reference = [as_reference_case(c) for c in cases]
    weights = weights_for(reference)
    request = pb.StartEvaluationRunRequest(parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(
        period=pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_HALF_YEAR, number=1), case_feed_sequence=head,
        weights=[pb.GroupWeight(group=g, rw=w) for g, w in weights.items()]))
    operation = await posted.evaluation.StartEvaluationRun(request)
    run = await finished(posted, operation)
    assert run.state == common_pb2.RUN_STATE_SUCCEEDED and run.cases == len(cases) and run.hospitals == 6
    assert run.versions["case_feed_sequence"] == str(head) and run.versions["weights"].startswith("given:")
    assert run.versions["schemes"].startswith(scheme_id() + "@") and len(run.input_digest) == 64

    rows = await indicators(posted, run.name)
    assert csv_of(rows) == reference_csv(reference, weights)
    again = await posted.evaluation.StartEvaluationRun(request)  # the same inputs: the same run
    assert again.name == operation.name

    region = rows[0]
    assert region.quality.lists_accepted == len(cases) and region.quality.timeliness == "0.0000"  # uploaded later
    assert region.quality.lists_received == 0 and region.quality.qc_pass_rate == ""
    january = await indicators(posted, run.name, month=Period.parse(f"{YEAR}-01").to_proto())
    of_january = [r for r in reference if r["case_id"] in {c.setl_list_id for c in cases
                                                           if c.settlement_month.month == 1}]
    expected = [line for line in reference_csv(of_january, weights).splitlines()
                if line.startswith(("region,", "hospital,"))]
    assert csv_of(january).splitlines()[1:] == expected

    hospital = next(r.unit for r in rows if r.level == pb.UNIT_LEVEL_HOSPITAL)
    card = await posted.evaluation.GetHospitalScorecard(pb.GetHospitalScorecardRequest(
        name=f"{run.name}/hospitalScorecards/{hospital}"))
    assert card.hospital.unit == hospital and card.region.unit == "ALL" and card.region.cases == len(cases)
    assert [m.month.month for m in card.months] == [1, 2] and 1 <= card.cmi_rank <= card.hospitals_ranked <= 6
    assert {d.unit.split("/")[0] for d in card.departments} == {hospital}
    assert [p.evaluation_run for p in card.periods][-1] == run.name

    groups = await posted.evaluation.ListGroupProfiles(pb.ListGroupProfilesRequest(parent=run.name))
    assert sum(g.cases for g in groups.group_profiles) == len(cases)
    assert {g.group for g in groups.group_profiles if g.rw} == set(weights) & {c["group"] for c in reference}
    got = await posted.evaluation.GetEvaluationRun(pb.GetEvaluationRunRequest(name=run.name))
    assert got.cases == len(cases) and got.operation == operation.name


async def test_a_pinned_sequence_reads_the_same_cases_after_a_revocation(posted: Posted) -> None:
    months = [f"{YEAR}-01"]
    head = (await posted.collection.GetCaseFeed(collection_pb.GetCaseFeedRequest())).head_sequence
    cases = [c for c in await feed_cases(posted.collection, months, head)
             if c.status == collection_pb.LIST_STATUS_ACTIVE]
    groups = sorted({c.groups[0].code for c in cases if c.groups})
    weights = [pb.GroupWeight(group=g, rw="1.0000") for g in groups]

    async def run_at(sequence: int, deadline: int) -> list[pb.Indicator]:
        operation = await posted.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
            parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(
                period=pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_MONTH, number=1),
                case_feed_sequence=sequence, weights=weights, upload_deadline_days=deadline)))
        return await indicators(posted, (await finished(posted, operation)).name)

    before = await run_at(head, 30)
    await posted.collection.RevokeSettlementList(collection_pb.RevokeSettlementListRequest(
        fixmedins_code=cases[0].fixmedins_code, setl_id=cases[0].setl_id, reason="evaluation test"))
    assert [r.cases for r in await run_at(head, 31)][:1] == [len(cases)]  # pinned: the revocation is not seen
    assert await run_at(head, 31) == await run_at(head, 31)
    assert csv_of(await run_at(head, 31)) == csv_of(before)
    after = await run_at(0, 30)  # at the head: one case fewer
    assert after[0].cases == len(cases) - 1


async def test_bad_requests_name_the_field(posted: Posted) -> None:
    period = pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_MONTH, number=1)
    for request, field in [
        (pb.StartEvaluationRunRequest(parent="regions/33", evaluation_run=pb.EvaluationRun(period=period)), "parent"),
        (pb.StartEvaluationRunRequest(parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(
            period=pb.EvaluationPeriod(year=YEAR, kind=pb.PERIOD_KIND_MONTH, number=13))), "evaluation_run.period"),
        (pb.StartEvaluationRunRequest(parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(
            period=period, weights=[pb.GroupWeight(group="A", rw="1.00001")])), "evaluation_run.weights[0].rw"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await posted.evaluation.StartEvaluationRun(request)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(raised.value)[0].metadata["field"] == field
    with pytest.raises(grpc.aio.AioRpcError) as raised:  # a half year's weight table comes from settlement too
        await posted.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
            parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(period=pb.EvaluationPeriod(
                year=YEAR, kind=pb.PERIOD_KIND_HALF_YEAR, number=1))))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(raised.value)[0].reason == "UPSTREAM_UNAVAILABLE"
    with pytest.raises(grpc.aio.AioRpcError) as raised:  # a month's weights come from settlement: not running here
        await posted.evaluation.StartEvaluationRun(pb.StartEvaluationRunRequest(
            parent=f"regions/{REGION}", evaluation_run=pb.EvaluationRun(period=period)))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(raised.value)[0].reason == "UPSTREAM_UNAVAILABLE"
    for missing in (posted.evaluation.ListIndicators(pb.ListIndicatorsRequest(
                        parent=f"regions/{REGION}/evaluationRuns/{'0' * 32}")),
                    posted.evaluation.GetEvaluationRun(pb.GetEvaluationRunRequest(
                        name=f"regions/{REGION}/evaluationRuns/{'0' * 32}"))):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await missing
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(raised.value)[0].reason == "RUN_NOT_FOUND"  # the API's reason, not the run framework's


def test_the_report_of_the_half_year(posted: Posted, database_url: str, tmp_path: Path, chromium: Chromium) -> None:
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-m", "services.cli", "evaluation", "report", "--region", REGION,
                           "--period", f"{YEAR}-H1", "--out", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    hospitals = list(csv.DictReader(io.StringIO((tmp_path / "hospitals.csv").read_text())))
    assert len(hospitals) == 6 and all(row["timeliness"] == "0.0000" for row in hospitals)
    plotted = [row["unit"] for row in hospitals if row["cmi"]]  # no weighted case (weights_for leaves groups out):
    assert len(plotted) >= 5                                    # no CMI, no point in the quadrant chart
    with open_page(chromium, tmp_path / "report.html") as seen:
        assert seen.page.locator("#league-table tbody tr").count() == 6
        assert seen.page.locator("#quadrant ~ svg.chart").first.locator("circle").count() == len(plotted)
        assert seen.page.locator("#trend-table tbody tr").count() == 2
    assert seen.problems() == []
