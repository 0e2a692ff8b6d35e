"""medpay.review.v1 over real gRPC servers and PostgreSQL: knowledge and rule sets, CheckStay, a review run over
the collection service's case feed and fee details, the workflow, deductions and statistics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2
from medpay.collection.v1 import collection_service_pb2 as cpb
from medpay.collection.v1 import collection_service_pb2_grpc as cgrpc
from medpay.collection.v1 import fee_detail_service_pb2 as fpb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fgrpc
from medpay.common.v1 import common_pb2
from medpay.review.v1 import review_service_pb2 as pb
from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

from libs.common.grpc.server import RunningServer, start_server
from libs.common.paging import every_page
from libs.common.runtime import Runtime
from libs.national.fees import fee_instant
from services.evaluation.adapters.review.files import DEFAULT_RULESET

from ..unit.review.world import ITEMS as ITEMS_BY_CODE
from ..unit.review.world import World, items_csv
from .rpc_errors import error_info

App = tuple[Any, str, Any]
REVIEWER_A = (("x-medpay-actor", "reviewer-a"), ("x-medpay-role", "reviewer"))
REVIEWER_B = (("x-medpay-actor", "reviewer-b"), ("x-medpay-role", "reviewer"))


def hospital(code: str) -> tuple[tuple[str, str], ...]:
    return (("x-medpay-actor", f"staff-{code}"), ("x-medpay-role", "hospital"), ("x-medpay-institution", code))


@pytest.fixture(scope="module")
async def review_server(runtime: Runtime, collection_app: App) -> AsyncIterator[RunningServer]:
    from services.evaluation.bootstrap import build_app, service_spec

    running_collection, _, _ = collection_app
    settings = runtime.settings.model_copy(update={"collection_address": f"127.0.0.1:{running_collection.port}"})
    app = await build_app(Runtime(settings))
    running = await start_server(service_spec(app), settings, "127.0.0.1:0")
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def channels(review_server: RunningServer, collection_app: App) -> AsyncIterator[Any]:
    running_collection, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{review_server.port}") as review, \
            grpc.aio.insecure_channel(f"127.0.0.1:{running_collection.port}") as collection:
        yield (pb_grpc.ReviewServiceStub(review), operations_pb2_grpc.OperationsStub(review),
               cgrpc.CollectionServiceStub(collection), fgrpc.FeeDetailServiceStub(collection))


def _world() -> World:
    w = World(seed=41, stays=160, span_days=240)  # discharged before today: lists from the future are refused
    for category in ("duplicate_charge", "restricted_sex", "unbundled_charge", "split_admission"):
        w.plant(category, 4)
    for s in w.stays:  # ids of this test's own (synth numbers its stays from 1 in every run)
        s.serial += 41_000_000
        s.__post_init__()
        seen: set[str] = set()
        for i, original in enumerate(s.lines):
            line = s.lines[i] = {**original, "mdtrt_id": s.mdtrt_id}
            if line["feedetl_sn"] in seen:  # collection refuses a serial twice in one upload: a copy gets its own
                line["feedetl_sn"] += "-copy"
            seen.add(line["feedetl_sn"])
    return w


@pytest.fixture(scope="module")
async def loaded(channels: Any) -> World:
    review, _, lists, fees = channels
    w = _world()
    uploads = [cpb.BatchUploadSettlementListsRequest(upload=cpb.SettlementListUpload(
        fixmedins_code=s.hospital, fixmedins_name="测试医院",
        input_json=json.dumps(s.list_request()["input"], ensure_ascii=False).encode())) for s in w.stays]

    async def stream() -> AsyncIterator[cpb.BatchUploadSettlementListsRequest]:
        for u in uploads:
            yield u

    result = await lists.BatchUploadSettlementLists(stream())
    assert result.accepted_count == len(w.stays), [r.rejections for r in result.results if not r.HasField("accepted")]
    for s in w.stays:
        await fees.UploadFeeDetails(fpb.UploadFeeDetailsRequest(
            fixmedins_code=s.hospital, input_json=json.dumps({"feedetail": s.lines}).encode()))
    await review.ImportKnowledge(pb.ImportKnowledgeRequest(
        knowledge_version_id="test-41", effective_date=date_pb2.Date(year=2025, month=1, day=1),
        items_csv=items_csv().encode()))
    created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
        source=DEFAULT_RULESET.read_bytes(), source_format=pb.RULE_SET_FORMAT_TOML)))
    await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=created.name, reason="e2e"))
    return w


def _ts(local: str) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(fee_instant(local))
    return ts


def check_request(s: Any, stage: int = pb.STAGE_DURING) -> pb.CheckStayRequest:
    return pb.CheckStayRequest(stage=stage, stay=pb.Stay(
        fixmedins_code=s.hospital, mdtrt_id=s.mdtrt_id, setl_id=s.setl_id, psn_no=s.person.psn_no,
        sex=s.person.sex, birth_date=date_pb2.Date(year=s.person.birth.year, month=s.person.birth.month,
                                                    day=s.person.birth.day),
        admission_time=_ts(s.admitted.isoformat(" ")), diagnosis_codes=s.diagnoses,
        fee_lines=[pb.FeeLine(feedetl_sn=x["feedetl_sn"], med_list_codg=x["med_list_codg"],
                              med_chrgitm_type=x["med_chrgitm_type"], fee_time=_ts(x["fee_ocur_time"]), cnt=x["cnt"],
                              pric=x["pric"], amount=common_pb2.Money(fen=round(float(x["det_item_fee_sumamt"]) * 100)),
                              init_feedetl_sn=x.get("init_feedetl_sn", "")) for x in s.lines]))


async def test_knowledge_and_rule_sets_are_versioned_and_validated(channels: Any, loaded: World) -> None:
    review = channels[0]
    versions = await review.ListKnowledgeVersions(pb.ListKnowledgeVersionsRequest())
    assert [v.name for v in versions.knowledge_versions] == ["knowledgeVersions/test-41"]
    items = await review.ListKnowledgeItems(pb.ListKnowledgeItemsRequest(parent="knowledgeVersions/test-41",
                                                                         page_size=5))
    assert len(items.items) == 5 and items.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await review.ImportKnowledge(pb.ImportKnowledgeRequest(
            knowledge_version_id="bad", effective_date=date_pb2.Date(year=2026, month=1, day=1),
            items_csv=b"code,name\nA,b\n"))
    assert error_info(bad.value)[0].reason == "KNOWLEDGE_INVALID"
    changed = DEFAULT_RULESET.read_text(encoding="utf-8").replace("window_days = 15", "window_days = 10")
    with pytest.raises(grpc.aio.AioRpcError) as same_version:
        await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
            source=changed.replace('version = "2026.1"', 'version = "2026.2"').encode(),
            source_format=pb.RULE_SET_FORMAT_TOML)))
    assert error_info(same_version.value)[0].reason == "RULE_VERSION_CHANGED"
    active = await review.GetRuleSet(pb.GetRuleSetRequest(name="ruleSets/-/versions/active"))
    assert active.state == pb.RULE_SET_STATE_ACTIVE and len(active.rules) == 16
    with pytest.raises(grpc.aio.AioRpcError) as hospital_denied:
        await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=active.name, reason="x"),
                                     metadata=hospital("H33070200011"))
    assert hospital_denied.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_check_stay_finds_a_planted_duplicate_in_milliseconds(channels: Any, loaded: World) -> None:
    review = channels[0]
    planted = next(s for s in loaded.stays if "duplicate_charge" in s.planted)
    answer = await review.CheckStay(check_request(planted))
    assert any(v.category == pb.CATEGORY_DUPLICATE_CHARGE and v.rule_id == "RV-DUP-01" for v in answer.violations)
    assert answer.rule_set == "ruleSets/medpay-review/versions/2026.1" and answer.knowledge_version == "test-41"
    clean = next(s for s in loaded.clean())
    assert not [v for v in (await review.CheckStay(check_request(clean, pb.STAGE_BEFORE))).violations
                if v.severity == pb.SEVERITY_ERROR]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await review.CheckStay(pb.CheckStayRequest(stage=pb.STAGE_DURING, stay=pb.Stay(fixmedins_code="H1")))
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_an_operator_switches_a_rule_off_and_on_again_without_a_release(channels: Any, loaded: World) -> None:
    review = channels[0]
    planted = next(s for s in loaded.stays if "duplicate_charge" in s.planted)
    source = _duplicates_off()
    checked = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=source, validate_only=True))
    assert [r.enabled for r in checked.rules if r.rule_id == "RV-DUP-01"] == [False]
    with pytest.raises(grpc.aio.AioRpcError) as not_stored:  # validating stored nothing
        await review.GetRuleSet(pb.GetRuleSetRequest(name="ruleSets/medpay-review/versions/2026.1-dup-off"))
    assert not_stored.value.code() is grpc.StatusCode.NOT_FOUND
    created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=source))
    await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=created.name, reason="RV-DUP-01 too noisy"))
    try:
        answer = await review.CheckStay(check_request(planted))
        assert answer.rule_set == created.name
        assert not [v for v in answer.violations if v.rule_id == "RV-DUP-01"]
    finally:
        await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name="ruleSets/medpay-review/versions/2026.1",
                                                               reason="back to the default"))
    again = await review.CheckStay(check_request(planted))
    assert again.rule_set == "ruleSets/medpay-review/versions/2026.1"
    whole = list((await review.ListRuleSets(pb.ListRuleSetsRequest())).rule_sets)
    assert {created.name, again.rule_set} <= {r.name for r in whole}
    assert [r.name for r in whole if r.state == pb.RULE_SET_STATE_ACTIVE] == [again.rule_set]  # one active
    assert [r async for r in every_page(review.ListRuleSets, pb.ListRuleSetsRequest(page_size=1), "rule_sets")
            ] == whole  # AIP-158: a page of one gives the same rule sets in the same order
    assert [v.rule_version for v in again.violations if v.rule_id == "RV-DUP-01"][:1] == ["1"]


def _duplicates_off() -> pb.RuleSet:
    """The default rule set with the duplicate-charge rule switched off, as its own version."""
    off = DEFAULT_RULESET.read_text(encoding="utf-8").replace('version = "2026.1"', 'version = "2026.1-dup-off"', 1)
    off = off.replace('category = "duplicate_charge"\n', 'category = "duplicate_charge"\nenabled = false\n', 1)
    return pb.RuleSet(source=off.encode(), source_format=pb.RULE_SET_FORMAT_TOML)


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):  # a bound, not a speed target: the refreshes below run every 20 ms
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def test_a_replica_sees_an_activation_through_its_background_refresh_not_a_request(
        runtime: Runtime, collection_app: App, channels: Any, loaded: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two evaluation processes on one database: a rule set activated through the first reaches the second's
    CheckStay within the second's refresh interval, read by its background task; no CheckStay waits for a read of
    rule sets or knowledge. A refresh that fails keeps the last good snapshot (and logs why)."""
    from services.evaluation.bootstrap import build_app, service_spec

    review = channels[0]
    running_collection, _, _ = collection_app
    settings = runtime.settings.model_copy(update={"collection_address": f"127.0.0.1:{running_collection.port}"})
    app = await build_app(Runtime(settings))
    rulesets, knowledge = app.review.rulesets, app.review.knowledge
    rulesets.refresh_seconds = knowledge.refresh_seconds = 0.02
    replica = await start_server(service_spec(app), settings, "127.0.0.1:0")
    planted = next(s for s in loaded.stays if "duplicate_charge" in s.planted)
    default = "ruleSets/medpay-review/versions/2026.1"
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{replica.port}") as channel:
            other = pb_grpc.ReviewServiceStub(channel)
            await _until(lambda: rulesets.snapshot is not None and knowledge.refreshes > 0, "a first load")
            before = await other.CheckStay(check_request(planted))
            assert before.rule_set == default and [v for v in before.violations if v.rule_id == "RV-DUP-01"]
            created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=_duplicates_off()))
            await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=created.name, reason="the replica test"))
            reads = rulesets.refreshes
            await _until(lambda: rulesets.snapshot is not None and rulesets.snapshot[1] == created.name,
                         "the activation reaching the replica")
            after = await other.CheckStay(check_request(planted))
            assert after.rule_set == created.name and not [v for v in after.violations if v.rule_id == "RV-DUP-01"]
            assert rulesets.refreshes > reads  # read in the background ...
            assert (rulesets.request_loads, knowledge.request_loads) == (0, 0)  # ... and by no request

            def broken() -> Any:
                raise ConnectionError("database unreachable")

            monkeypatch.setattr(rulesets, "_new_uow", broken)
            await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=default, reason="back to the default"))
            failed = rulesets.failed_refreshes
            await _until(lambda: rulesets.failed_refreshes > failed + 1, "a failed refresh")
            kept = await other.CheckStay(check_request(planted))
            assert kept.rule_set == created.name and rulesets.request_loads == 0  # the last good snapshot
            monkeypatch.undo()
            await _until(lambda: rulesets.snapshot is not None and rulesets.snapshot[1] == default,
                         "the refresh recovering")
    finally:
        await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=default, reason="back to the default"))
        await replica.stop()


async def _run(channels: Any) -> pb.ReviewRun:
    review, operations, _, _ = channels
    operation = await review.StartReviewRun(pb.StartReviewRunRequest(
        parent="regions/330700", settlement_period=date_pb2.Date(year=2026)))
    done = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
        name=operation.name, timeout={"seconds": 120}))
    assert done.done and not done.HasField("error"), done.error
    run = pb.ReviewRun()
    done.response.Unpack(run)
    return run


async def test_a_review_run_flags_what_was_planted_and_runs_once_per_rule_version(channels: Any,
                                                                                   loaded: World) -> None:
    review = channels[0]
    run = await _run(channels)
    assert run.list_count == len(loaded.stays) and run.lists_with_details == len(loaded.stays)
    assert run.knowledge_versions == ["test-41"] and run.flag_count > 0
    again = await _run(channels)
    assert again == run  # the same key: the stored run, nothing reviewed twice
    flags = [f async for f in _all_flags(review, REVIEWER_A)]
    assert len(flags) == run.flag_count
    flagged = {(f.setl_id, f.violation.category) for f in flags}
    for s in loaded.stays:
        for category in s.planted:
            assert (s.setl_id, pb.Category.Value(f"CATEGORY_{category.upper()}")) in flagged, (s.setl_id, category)
    listed = await review.ListReviewRuns(pb.ListReviewRunsRequest(parent="regions/330700"))
    assert [r.name for r in listed.review_runs] == [run.name]


async def _all_flags(review: Any, metadata: Any, **filters: Any) -> AsyncIterator[pb.Flag]:
    token = ""
    while True:
        page = await review.ListFlags(pb.ListFlagsRequest(parent="regions/330700", page_size=7, page_token=token,
                                                          **filters), metadata=metadata)
        for f in page.flags:
            yield f
        token = page.next_page_token
        if not token:
            return


async def test_the_workflow_to_a_deduction_and_what_a_hospital_may_see(channels: Any, loaded: World) -> None:
    review = channels[0]
    await _run(channels)
    duplicates = [f async for f in _all_flags(review, REVIEWER_A, category=pb.CATEGORY_DUPLICATE_CHARGE)]
    duplicate = duplicates[0]
    owner, other = duplicate.fixmedins_code, next(h for h in ("H33070200011", "H33070200027")
                                                   if h != duplicate.fixmedins_code)
    mine = [f async for f in _all_flags(review, hospital(owner))]
    assert mine and all(f.fixmedins_code == owner for f in mine)
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await review.GetFlag(pb.GetFlagRequest(name=duplicate.name), metadata=hospital(other))
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND

    async def step(metadata: Any, step: int, verdict: int = 0, request_id: str = "", **kw: Any) -> pb.Flag:
        return await review.ReviewFlag(pb.ReviewFlagRequest(name=duplicate.name, step=step, verdict=verdict,
                                                            reason="checked the lines", request_id=request_id,
                                                            **kw), metadata=metadata)

    first = await step(REVIEWER_A, pb.REVIEW_STEP_FIRST_REVIEW, pb.VERDICT_UPHOLD, "wf-1")
    assert first.state == pb.FLAG_STATE_FIRST_REVIEWED
    assert await step(REVIEWER_A, pb.REVIEW_STEP_FIRST_REVIEW, pb.VERDICT_UPHOLD, "wf-1") == first  # a replay
    for metadata, code, reason in ((REVIEWER_A, grpc.StatusCode.FAILED_PRECONDITION, "SAME_REVIEWER"),
                                   (hospital(owner), grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await step(metadata, pb.REVIEW_STEP_RE_REVIEW, pb.VERDICT_UPHOLD)
        assert refused.value.code() is code and error_info(refused.value)[0].reason == reason
    half = duplicate.amount.fen // 2
    await step(REVIEWER_B, pb.REVIEW_STEP_RE_REVIEW, pb.VERDICT_UPHOLD, amount=common_pb2.Money(fen=half))
    appealed = await step(hospital(owner), pb.REVIEW_STEP_APPEAL)
    assert appealed.state == pb.FLAG_STATE_APPEALED
    decided = await step(REVIEWER_B, pb.REVIEW_STEP_DECIDE, pb.VERDICT_UPHOLD)
    assert decided.state == pb.FLAG_STATE_CONFIRMED and decided.amount.fen == half
    assert [(e.step, e.actor) for e in decided.history] == [
        (pb.REVIEW_STEP_FIRST_REVIEW, "reviewer-a"), (pb.REVIEW_STEP_RE_REVIEW, "reviewer-b"),
        (pb.REVIEW_STEP_APPEAL, f"staff-{owner}"), (pb.REVIEW_STEP_DECIDE, "reviewer-b")]
    month = date_pb2.Date(year=decided.settlement_month.year, month=decided.settlement_month.month)
    deductions = await review.ListDeductions(pb.ListDeductionsRequest(parent="regions/330700",
                                                                      settlement_period=month))
    assert [(d.fixmedins_code, d.amount.fen, d.flag_count) for d in deductions.deductions] == [(owner, half, 1)]
    statistics = await review.ListRuleStatistics(pb.ListRuleStatisticsRequest(parent="regions/330700"))
    dup = next(s for s in statistics.statistics if s.rule_id == "RV-DUP-01")
    assert (dup.decided_count, dup.confirmed_count, dup.precision) == (1, 1, "1.000")
    assert dup.lists_reviewed == len(loaded.stays) and float(dup.activity) > 0
    by_cmi = {s.rule_id: s for s in statistics.statistics if s.rule_id in ("RV-UPC-03", "RV-UPC-04")}
    assert [(r, s.rule_version, s.lists_reviewed) for r, s in sorted(by_cmi.items())] == [
        ("RV-UPC-03", "2", len(loaded.stays)), ("RV-UPC-04", "1", len(loaded.stays))]  # ran in the review run
    # Both Lists page (AIP-158): one row a page gives the same rows; a forged token is INVALID_PAGE_TOKEN.
    assert len(statistics.statistics) > 1 and not statistics.next_page_token
    paged = [s async for s in every_page(review.ListRuleStatistics, pb.ListRuleStatisticsRequest(
        parent="regions/330700", page_size=1), "statistics")]
    assert paged == list(statistics.statistics)
    for forged in (review.ListRuleStatistics(pb.ListRuleStatisticsRequest(parent="regions/330700", page_token="x")),
                   review.ListDeductions(pb.ListDeductionsRequest(parent="regions/330700", settlement_period=month,
                                                                  page_token="x"))):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await forged
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(refused.value)[0].reason == "INVALID_PAGE_TOKEN"


@pytest.fixture(scope="module")
async def door_to_review(runtime: Runtime, review_server: RunningServer, coding_server: RunningServer,
                         grouping_server: RunningServer) -> AsyncIterator[str]:
    """A collection service whose national door forwards 3101/3102 to this module's review server."""
    from services.collection.bootstrap import build_app as build_collection
    from services.collection.bootstrap import service_spec as collection_spec

    from ..support import free_port

    http_address = f"127.0.0.1:{free_port()}"
    settings = runtime.settings.model_copy(update={
        "coding_address": f"127.0.0.1:{coding_server.port}", "grouping_address": f"127.0.0.1:{grouping_server.port}",
        "evaluation_address": f"127.0.0.1:{review_server.port}"})
    app = await build_collection(Runtime(settings))
    running = await start_server(collection_spec(app, http_address, "/api/v1/hsa"), settings, "127.0.0.1:0")
    yield f"http://{http_address}/api/v1/hsa"
    await running.stop()


def national_3101(s: Any, msgid: str, trig_scen: str = "5") -> dict[str, Any]:
    """A 3101 as hospital systems send it: every property, unset ones null, numbers as strings."""
    orders = [{"rx_id": x["feedetl_sn"], "rxno": None, "long_drord_flag": "0", "hilist_type": "", "chrg_type":
               x["med_chrgitm_type"], "drord_bhvr": None, "hilist_code": x["med_list_codg"], "hilist_name": "",
               "hilist_lv": None, "hilist_pric": x["pric"], "hosplist_code": "", "hosplist_name": "",
               "cnt": x["cnt"], "pric": x["pric"], "sumamt": x["det_item_fee_sumamt"], "ownpay_amt": "0",
               "selfpay_amt": "0", "spec": None, "spec_unt": None, "drord_begn_date": x["fee_ocur_time"],
               "drord_stop_date": None, "drord_dept_codg": "A03", "drord_dr_codg": "D1", "curr_drord_flag": "1"}
              for x in s.lines]
    encounter = {"mdtrt_id": s.mdtrt_id, "medins_id": s.hospital, "medins_name": "测试医院", "medins_admdvs": "330700",
                 "medins_type": "1", "medins_lv": "2", "adm_date": s.admitted.isoformat(" "), "dscg_date": None,
                 "dscg_main_dise_codg": s.diagnoses[0], "dscg_main_dise_name": "", "dr_codg": "D1",
                 "adm_dept_codg": "A03", "dscg_dept_codg": None, "med_type": "21", "medfee_sumamt": None,
                 "insutype": "310",
                 "fsi_diagnose_dtos": [{"dise_id": str(i), "inout_dise_type": "1", "maindise_flag": "1" if i == 0
                                        else "0", "dias_srt_no": str(i + 1), "dise_codg": code, "dise_name": "",
                                        "dise_date": None} for i, code in enumerate(s.diagnoses)],
                 "fsi_order_dtos": orders, "fsi_operation_dtos": []}
    return {"infno": "3101", "msgid": msgid, "mdtrtarea_admvs": "330700", "insuplc_admdvs": "330700",
            "recer_sys_code": "YBXT", "dev_no": "", "dev_safe_info": "", "cainfo": "", "signtype": "",
            "infver": "V1.0", "opter_type": "1", "opter": "D1", "opter_name": "医生", "inf_time": "2026-11-01 10:00:00",
            "fixmedins_code": s.hospital, "fixmedins_name": "测试医院", "sign_no": "",
            "input": {"data": {"trig_scen": trig_scen, "rule_ids": None, "patient_dtos": [{
                "patn_id": s.person.psn_no, "patn_name": "测试", "gend": str(s.person.sex),
                "brdy": s.person.birth.isoformat(), "poolarea": "330700", "curr_mdtrt_id": s.mdtrt_id,
                "fsi_encounter_dtos": [encounter]}]}}}


async def test_3101_in_the_national_door_answers_in_the_national_shape(door_to_review: str, loaded: World) -> None:
    from .lists import post_all

    planted = next(s for s in loaded.stays if "restricted_sex" in s.planted
                   and any(ITEMS_BY_CODE.get(x["med_list_codg"]) for x in s.lines))
    reply = (await post_all(door_to_review, [national_3101(planted, f"{planted.hospital}20261101100000" + "3101")]))[0]
    assert reply["infcode"] == 0, reply["err_msg"]
    found = [r for r in reply["output"]["result"] if r["vola_bhvr_type"] == "restricted_sex"]
    assert found and found[0]["sev_deg"] == "1" and found[0]["mdtrt_id"] == planted.mdtrt_id
    assert found[0]["patn_id"] == planted.person.psn_no and found[0]["rule_id"] == "RV-SEX-01"
    detail = found[0]["judge_result_detail_dtos"][0]
    assert detail["vola_item_type"] == "1" and detail["rx_id"] in {x["feedetl_sn"] for x in planted.lines}
    assert set(found[0]) >= {"jr_id", "rule_name", "vola_cont", "vola_amt", "vola_amt_stas", "vola_evid", "task_id"}
    broken = national_3101(planted, f"{planted.hospital}20261101100001" + "3101")
    broken["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["adm_date"] = None
    refused = (await post_all(door_to_review, [broken]))[0]
    assert refused["infcode"] == -1 and "adm_date" in refused["err_msg"]


async def test_3101_keeps_the_rules_asked_for_3102_judges_at_settlement_and_a_stay_is_the_callers(
        door_to_review: str, loaded: World) -> None:
    from datetime import timedelta

    from .lists import post_all

    planted = next(s for s in loaded.stays if "restricted_sex" in s.planted
                   and any(ITEMS_BY_CODE.get(x["med_list_codg"]) for x in s.lines))
    asked = iter(range(10, 99))

    async def ask(change: Any = None, infno: str = "3101", trig_scen: str = "1", **data: Any) -> dict[str, Any]:
        request = national_3101(planted, f"{planted.hospital}202611011002{next(asked):02d}{infno}", trig_scen)
        request["infno"] = infno
        request["input"]["data"].update(data)
        if change:
            change(request["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0])
        return (await post_all(door_to_review, [request]))[0]

    def rules(reply: dict[str, Any]) -> set[str]:
        assert reply["infcode"] == 0, reply["err_msg"]
        return {r["rule_id"] for r in reply["output"]["result"]}

    assert rules(await ask(rule_ids=["RV-SEX-01"])) == {"RV-SEX-01"}
    assert "RV-SEX-01" not in rules(await ask(rule_ids=["RV-DUP-01"]))
    early = (planted.admitted - timedelta(days=3)).isoformat(" ")

    def charged_before_admission(encounter: dict[str, Any]) -> None:
        encounter["fsi_order_dtos"][0]["drord_begn_date"] = early

    assert "RV-DQ-03" not in rules(await ask(charged_before_admission))  # before: a reminder stage, no fee dates
    assert "RV-DQ-03" in rules(await ask(charged_before_admission, trig_scen="6"))  # a settlement scene: during
    assert "RV-DQ-03" in rules(await ask(charged_before_admission, infno="3102"))

    def elsewhere(encounter: dict[str, Any]) -> None:
        encounter["medins_id"] = "H33079900001"

    refused = await ask(elsewhere)
    assert refused["infcode"] == -1 and "medins_id H33079900001 is not the calling institution" in refused["err_msg"]

    def uncounted(encounter: dict[str, Any]) -> None:
        encounter["fsi_order_dtos"][1]["cnt"] = None

    unread = await ask(uncounted)
    assert unread["infcode"] == -1 and "fsi_order_dtos[1]" in unread["err_msg"] and "cnt and pric are required" in (
        unread["err_msg"])


async def test_operators_load_rule_files_and_run_reviews_from_the_command_line(review_server: RunningServer,
                                                                               channels: Any, loaded: World,
                                                                               tmp_path: Path) -> None:

    from .test_cli import medpay

    address = f"127.0.0.1:{review_server.port}"
    load = await asyncio.to_thread(medpay, "review", "load-rules", "--activate", "the default, again",
                                   "--address", address, env={})
    assert load.returncode == 0, load.stderr
    assert "stored ruleSets/medpay-review/versions/2026.1 (16 rules" in load.stdout and "active:" in load.stdout
    broken = tmp_path / "rules.toml"
    broken.write_text('id = "x"\nversion = "1"\n[[rules]]\nid = "A"\nkind = "nope"\n', encoding="utf-8")
    refused = await asyncio.to_thread(medpay, "review", "load-rules", str(broken), "--address", address, env={})
    assert refused.returncode == 1 and "INVALID_ARGUMENT" in refused.stderr and "nope" in refused.stderr
    items = tmp_path / "items.csv"
    items.write_text(items_csv(), encoding="utf-8")
    imported = await asyncio.to_thread(medpay, "review", "import-knowledge", str(items), "--version", "cli-2027",
                                       "--effective", "2027-01-01", "--address", address, env={})
    assert imported.returncode == 0, imported.stderr
    count = len(items_csv().splitlines()) - 1
    assert f"knowledgeVersions/cli-2027: {count} items, in force from 2027-01-01" in imported.stdout
    paged = [v.name async for v in every_page(channels[0].ListKnowledgeVersions,
                                              pb.ListKnowledgeVersionsRequest(page_size=1), "knowledge_versions")]
    assert len(paged) == len(set(paged))  # pages of one: each version once, the newest effective date first
    assert [v for v in paged if v.endswith(("/test-41", "/cli-2027"))] == [
        "knowledgeVersions/cli-2027", "knowledgeVersions/test-41"]
    (tmp_path / "bad.csv").write_text(items_csv().replace(",drug,", ",pill,", 1), encoding="utf-8")
    bad = await asyncio.to_thread(medpay, "review", "import-knowledge", str(tmp_path / "bad.csv"), "--version",
                                  "cli-bad", "--effective", "2027-01-01", "--address", address, env={})
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr and "kind 'pill'" in bad.stderr, bad.stderr
    run = await asyncio.to_thread(medpay, "review", "run", "--region", "330700", "--period", "2026",
                                  "--address", address, env={})
    assert run.returncode == 0, run.stderr
    assert f"regions/330700/reviewRuns/2026~medpay-review~2026.1: {len(loaded.stays)} lists" in run.stdout
    # the deductions of the year as a settlement policy's hospitals (the workflow test confirmed one flag)
    review = channels[0]
    confirmed = await review.ListDeductions(pb.ListDeductionsRequest(parent="regions/330700",
                                                                     settlement_period=date_pb2.Date(year=2026)))
    out = tmp_path / "deductions.json"
    listed = await asyncio.to_thread(medpay, "review", "deductions", "--region", "330700", "--period", "2026",
                                     "--out", str(out), "--address", address, env={})
    assert listed.returncode == 0, listed.stderr
    expected = {d.fixmedins_code: {"deductions": f"{d.amount.fen // 100}.{d.amount.fen % 100:02d}"}
                for d in confirmed.deductions}
    assert expected and json.loads(out.read_text(encoding="utf-8")) == {"hospitals": expected}
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == list(expected)


async def _open_flag(review: Any, category: int) -> pb.Flag:
    """An undecided flag of ``category`` with money at stake."""
    async for f in _all_flags(review, REVIEWER_A, category=category):
        if f.state == pb.FLAG_STATE_OPEN and f.amount.fen:
            return f
    raise AssertionError(f"no open flag of {pb.Category.Name(category)}")


async def test_a_confirmed_flag_is_deducted_by_the_year_end_clearing_and_posted_to_the_ledger(
        runtime: Runtime, review_server: RunningServer, collection_app: App, channels: Any, loaded: World) -> None:
    """Settlement reads review's confirmed deductions itself (ListDeductions with its own credentials) when a
    clearing starts, pins them in the run, deducts them besides the policy's and the ledger posts them; a flag
    confirmed after the clearing is deducted by the next run, once."""
    from medpay.settlement.v1 import ledger_pb2 as lpb
    from medpay.settlement.v1 import ledger_pb2_grpc as lpb_grpc
    from medpay.settlement.v1 import settlement_pb2 as spb
    from medpay.settlement.v1 import settlement_pb2_grpc as spb_grpc

    from libs.common.dates import Period
    from services.settlement.bootstrap import build_app as build_settlement
    from services.settlement.bootstrap import service_spec as settlement_spec

    review = channels[0]
    await _run(channels)
    flag = await _open_flag(review, pb.CATEGORY_RESTRICTED_SEX)
    for metadata, step, verdict in ((REVIEWER_A, pb.REVIEW_STEP_FIRST_REVIEW, pb.VERDICT_UPHOLD),
                                    (REVIEWER_B, pb.REVIEW_STEP_RE_REVIEW, pb.VERDICT_UPHOLD),
                                    (hospital(flag.fixmedins_code), pb.REVIEW_STEP_APPEAL, 0),
                                    (REVIEWER_B, pb.REVIEW_STEP_DECIDE, pb.VERDICT_UPHOLD)):
        decided = await review.ReviewFlag(pb.ReviewFlagRequest(name=flag.name, step=step, verdict=verdict,
                                                               reason="a man charged a women-only item"),
                                          metadata=metadata)
    assert decided.state == pb.FLAG_STATE_CONFIRMED
    year = date_pb2.Date(year=2026)
    confirmed = {d.fixmedins_code: d.amount.fen for d in (await review.ListDeductions(pb.ListDeductionsRequest(
        parent="regions/330700", settlement_period=year))).deductions}
    assert confirmed[flag.fixmedins_code] >= flag.amount.fen
    for method, request, field in (
            (review.ListDeductions, pb.ListDeductionsRequest(parent="regions/330700", settlement_period=year),
             "deductions"),
            (review.ListRuleStatistics, pb.ListRuleStatisticsRequest(parent="regions/330700"), "statistics")):
        whole = list(getattr(await method(request), field))
        paged, token = [], ""
        while True:  # pages of one and of two give the same rows in the same order
            request.page_size, request.page_token = 1 + (field == "statistics"), token
            page = await method(request)
            paged += getattr(page, field)
            token = page.next_page_token
            if not token:
                break
        assert paged == whole and whole, field

    running_collection, _, _ = collection_app
    settings = runtime.settings.model_copy(update={
        "collection_address": f"127.0.0.1:{running_collection.port}",
        "evaluation_address": f"127.0.0.1:{review_server.port}", "settlement_review_deductions": True})
    app = build_settlement(Runtime(settings))
    settlement = await start_server(settlement_spec(app), settings, "127.0.0.1:0")
    try:
        levels: dict[str, int] = {}  # every hospital of the year gets a level (other tests' lists included)
        async for chunk in app.feed.cases("330700", [Period(2026)], await app.feed.head()):
            levels.update({c.hospital: c.hospital_level or 2 for c in chunk})
        params = {"method": "points", "weights": {"years": [2026], "min_cases": 1},
                  "levels": {"1": {}, "2": {}, "3": {}}, "budget": "3000000.00",
                  "hospitals": {flag.fixmedins_code: {"deductions": "10.00"}}}
        async with grpc.aio.insecure_channel(f"127.0.0.1:{settlement.port}") as channel:
            stub, ops = spb_grpc.SettlementServiceStub(channel), operations_pb2_grpc.OperationsStub(channel)

            async def done(operation: operations_pb2.Operation) -> operations_pb2.Operation:
                finished = await ops.WaitOperation(operations_pb2.WaitOperationRequest(
                    name=operation.name, timeout={"seconds": 180}))
                assert finished.done and not finished.HasField("error"), finished.error
                return finished

            policy = await stub.CreatePolicy(spb.CreatePolicyRequest(parent="regions/330700", policy=spb.Policy(
                year=2026, parameters_json=json.dumps(params), hospital_levels=levels)))
            await stub.ActivatePolicy(spb.ActivatePolicyRequest(name=policy.name, approved_by="e2e bureau"))
            await done(await stub.ComputeWeights(spb.ComputeWeightsRequest(
                parent="regions/330700", weight_table=spb.WeightTable(year=2026))))
            run = spb.SettlementRun()
            cleared = await done(await stub.StartSettlementRun(spb.StartSettlementRunRequest(
                parent="regions/330700", settlement_run=spb.SettlementRun(settlement_period=year))))
            cleared.response.Unpack(run)
            assert run.total_review_deductions.fen == sum(confirmed.values())
            statements = {s.fixmedins_code: s for s in (await stub.ListHospitalStatements(
                spb.ListHospitalStatementsRequest(parent=run.name, page_size=1000))).hospital_statements}
            for code, fen in confirmed.items():
                s = statements[code]
                policy_fen = 1000 if code == flag.fixmedins_code else 0
                assert (s.review_deductions.fen, s.deductions.fen) == (fen, fen + policy_fen), code
                assert s.balance.fen == s.assessed.fen - s.advances.fen - s.deductions.fen
            entries = (await lpb_grpc.LedgerServiceStub(channel).ListLedgerEntries(lpb.ListLedgerEntriesRequest(
                parent="regions/330700", settlement_run=run.name, page_size=1000))).ledger_entries
            posted = next(e for e in entries if e.fixmedins_code == flag.fixmedins_code)
            fund = next(line for line in posted.lines if line.account.endswith("/adjustment-fund"))
            assert fund.credit.fen == statements[flag.fixmedins_code].deductions.fen

            # The run pinned what it read: it reproduces byte for byte after another flag is confirmed, and
            # the year, cleared, takes no second clearing with other deductions.
            other = await _open_flag(review, pb.CATEGORY_UNBUNDLED_CHARGE)
            for metadata, step in ((REVIEWER_A, pb.REVIEW_STEP_FIRST_REVIEW), (REVIEWER_B, pb.REVIEW_STEP_RE_REVIEW),
                                   (REVIEWER_B, pb.REVIEW_STEP_DECIDE)):
                await review.ReviewFlag(pb.ReviewFlagRequest(name=other.name, step=step, verdict=pb.VERDICT_UPHOLD,
                                                             reason="both items on one day"), metadata=metadata)
            kept, again = await app.settlement.reproduce(run.name.rsplit("/", 1)[1])
            assert kept == again and kept
            with pytest.raises(grpc.aio.AioRpcError) as settled:
                await stub.StartSettlementRun(spb.StartSettlementRunRequest(
                    parent="regions/330700", settlement_run=spb.SettlementRun(settlement_period=year)))
            assert error_info(settled.value)[0].reason == "PERIOD_ALREADY_SETTLED"

            # The flag confirmed after the clearing is deducted by the next run (2027-01's advance), once: the
            # cleared run keeps its figures, a replay of the next run is that run, and the run after carries nothing.
            now = {d.fixmedins_code: d.amount.fen for d in (await review.ListDeductions(pb.ListDeductionsRequest(
                parent="regions/330700", settlement_period=year))).deductions}
            late = {code: fen - confirmed.get(code, 0) for code, fen in now.items() if fen != confirmed.get(code, 0)}
            assert late == {other.fixmedins_code: other.amount.fen} and other.amount.fen > 0
            later_levels = dict(levels)
            async for chunk in app.feed.cases("330700", [Period(2027)], await app.feed.head()):
                later_levels.update({c.hospital: c.hospital_level or 2 for c in chunk})
            params_2027 = {**params, "weights": {"years": [2026], "min_cases": 1}, "hospitals": {}}
            policy = await stub.CreatePolicy(spb.CreatePolicyRequest(parent="regions/330700", policy=spb.Policy(
                year=2027, parameters_json=json.dumps(params_2027), hospital_levels=later_levels)))
            await stub.ActivatePolicy(spb.ActivatePolicyRequest(name=policy.name, approved_by="e2e bureau"))
            await done(await stub.ComputeWeights(spb.ComputeWeightsRequest(
                parent="regions/330700", weight_table=spb.WeightTable(year=2027))))
            january = date_pb2.Date(year=2027, month=1)
            ledger = lpb_grpc.LedgerServiceStub(channel)

            async def next_run(period: date_pb2.Date) -> tuple[spb.SettlementRun, dict[str, spb.HospitalStatement]]:
                finished = await done(await stub.StartSettlementRun(spb.StartSettlementRunRequest(
                    parent="regions/330700", settlement_run=spb.SettlementRun(settlement_period=period))))
                advanced = spb.SettlementRun()
                finished.response.Unpack(advanced)
                listed = await stub.ListHospitalStatements(spb.ListHospitalStatementsRequest(
                    parent=advanced.name, page_size=1000))
                return advanced, {s.fixmedins_code: s for s in listed.hospital_statements}

            async def adjustment_fund_credits() -> list[tuple[str, str, int]]:
                entries = (await ledger.ListLedgerEntries(lpb.ListLedgerEntriesRequest(
                    parent="regions/330700", page_size=1000))).ledger_entries
                return [(e.name, e.fixmedins_code, line.credit.fen) for e in entries for line in e.lines
                        if line.account.endswith("/adjustment-fund") and line.credit.fen]

            before = await adjustment_fund_credits()
            advanced, by_code = await next_run(january)
            assert advanced.total_review_deductions.fen == other.amount.fen
            carried = by_code[other.fixmedins_code]
            assert (carried.review_deductions.fen, carried.deductions.fen) == (other.amount.fen, other.amount.fen)
            assert carried.balance.fen == carried.advances.fen + carried.adjustments.fen - other.amount.fen
            assert not [s for code, s in by_code.items() if code != other.fixmedins_code and s.deductions.fen]
            posted = [c for c in await adjustment_fund_credits() if c not in before]
            assert [(code, fen) for _, code, fen in posted] == [(other.fixmedins_code, other.amount.fen)]
            kept_again, again = await app.settlement.reproduce(run.name.rsplit("/", 1)[1])
            assert kept_again == kept == again  # the cleared run was not touched
            replay, _ = await next_run(january)  # the same request: the same run, nothing posted
            assert replay.name == advanced.name and await adjustment_fund_credits() == [*before, *posted]
            february, by_code = await next_run(date_pb2.Date(year=2027, month=2))
            assert february.total_review_deductions.fen == 0 and not [s for s in by_code.values() if s.deductions.fen]
            assert await adjustment_fund_credits() == [*before, *posted]
    finally:
        await settlement.stop()
