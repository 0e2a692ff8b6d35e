"""DIP over a real grouping server (and collection's real case feed): builds as long-running operations,
published versions, grouping with DIP results, pinned versions, the catalogue methods, errors; a region moved
from CHS-DRG to DIP by regrouping its stored cases."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.rpc import error_details_pb2
from medpay.collection.v1 import collection_service_pb2 as cpb
from medpay.collection.v1 import collection_service_pb2_grpc as cpb_grpc
from medpay.common.v1 import common_pb2
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.runtime import Runtime
from services.collection.service_layer.regroup import regroup
from services.grouping.adapters.dip_files import load_procedure_classes, surgery_list_path
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.case import DipCase

from ..support import shared_or_skip
from .lists import fresh
from .rpc_errors import error_info

MATCH = {"core": dip_pb2.DIP_MATCH_CORE, "core_partial": dip_pb2.DIP_MATCH_CORE_PARTIAL,
         "comprehensive": dip_pb2.DIP_MATCH_COMPREHENSIVE, "ungroupable": dip_pb2.DIP_MATCH_UNGROUPABLE}


@pytest.fixture
def stub(grouping_channel: grpc.aio.Channel) -> pb_grpc.GroupingServiceStub:
    return pb_grpc.GroupingServiceStub(grouping_channel)


@pytest.fixture
def operations(grouping_channel: grpc.aio.Channel) -> operations_pb2_grpc.OperationsStub:
    return operations_pb2_grpc.OperationsStub(grouping_channel)


def scheme() -> str:
    return f"schemes/dip-{uuid.uuid4().int % 900000 + 100000}-2026"


def history(*rows: tuple[str, list[str], str], copies: int = 3) -> bytes:
    return b"".join(json.dumps({"case_id": f"B{i}-{n}", "dx": [dx], "px": px, "total_cost": cost}).encode() + b"\n"
                    for i, (dx, px, cost) in enumerate(rows) for n in range(copies))


async def built(stub: pb_grpc.GroupingServiceStub, ops: operations_pb2_grpc.OperationsStub,
                request: dip_pb2.BuildDipCatalogueRequest) -> operations_pb2.Operation:
    operation = await stub.BuildDipCatalogue(request)
    for _ in range(20):
        if operation.done:
            return operation
        operation = await ops.WaitOperation(operations_pb2.WaitOperationRequest(name=operation.name), timeout=60)
    raise AssertionError(f"{operation.name} did not finish")


def catalogue_of(operation: operations_pb2.Operation) -> dip_pb2.DipCatalogue:
    assert operation.HasField("response"), operation.error
    out = dip_pb2.DipCatalogue()
    assert operation.response.Unpack(out)
    return out


def case(case_id: str, dx: list[str], px: list[str]) -> pb.GroupingCase:
    return pb.GroupingCase(case_id=case_id, diagnoses=dx, procedures=px)


async def test_the_worked_example_through_the_service(stub: pb_grpc.GroupingServiceStub,
                                                      operations: operations_pb2_grpc.OperationsStub) -> None:
    folder = shared_or_skip() / "dip" / "examples" / "region-a"
    name = scheme()
    operation = await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
        scheme=name, threshold=15, upload=dip_pb2.DipHistoryUpload(history=(folder / "history.jsonl").read_bytes()),
        request_id=str(uuid.uuid4())))
    meta = common_pb2.Run()
    assert operation.metadata.Unpack(meta) and meta.state == common_pb2.RUN_STATE_SUCCEEDED
    assert (meta.kind, meta.progress.done, meta.progress.unit) == ("dip.build", 8000, "cases")
    made = catalogue_of(operation)
    assert (made.name, made.version, made.source) == (f"{name}/catalogues/1", 1, dip_pb2.DIP_CATALOGUE_SOURCE_UPLOAD)
    assert (made.core_group_count, made.comprehensive_group_count, made.case_count, made.cases_read,
            made.cases_skipped, made.threshold) == (92, 408, 7989, 8000, 11, 15)

    expected = [json.loads(line) for line in (folder / "expected_groups.jsonl").read_text().splitlines()]
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines()]
    reply = await stub.GroupCases(pb.GroupCasesRequest(scheme=name, cases=[
        case(c["case_id"], c["dx"], c["px"]) for c in cases]))
    got = [(r.case_id, r.dip.group, r.dip.match) for r in reply.results]
    assert got == [(e["case_id"], e["group"], MATCH[e["kind"]]) for e in expected]
    assert {r.scheme_version for r in reply.results} == {made.version_label}
    for r in reply.results:
        assert r.drg == "" and r.status == (pb.GROUP_STATUS_NO_DIAGNOSIS if r.dip.group == "0000"
                                            else pb.GROUP_STATUS_GROUPED)
        if r.dip.match in (dip_pb2.DIP_MATCH_CORE, dip_pb2.DIP_MATCH_CORE_PARTIAL):
            assert "+".join(r.dip.procedures) == r.dip.group.split("|", 1)[1]
        else:
            assert not r.dip.procedures

    rows, token = [], ""
    while True:
        page = await stub.ListDipGroups(dip_pb2.ListDipGroupsRequest(parent=f"{name}/catalogues/-", page_size=128,
                                                                     page_token=token))
        kinds = {dip_pb2.DIP_GROUP_KIND_CORE: "core", dip_pb2.DIP_GROUP_KIND_COMPREHENSIVE: "comprehensive"}
        types = {dip_pb2.DIP_CASE_TYPE_SURGERY: "S", dip_pb2.DIP_CASE_TYPE_THERAPEUTIC: "T",
                 dip_pb2.DIP_CASE_TYPE_DIAGNOSTIC: "D", dip_pb2.DIP_CASE_TYPE_CONSERVATIVE: "C"}
        rows += [f"{g.group_id}\t{kinds[g.kind]}\t{g.diagnosis}\t{'+'.join(g.procedures)}\t{types[g.case_type]}\t"
                 f"{g.case_count}\t{g.mean_cost.fen // 100}.{g.mean_cost.fen % 100:02d}" for g in page.groups]
        token = page.next_page_token
        if not token:
            break
    assert rows == (folder / "expected_catalogue.tsv").read_text().splitlines()[1:]


async def test_versions_pins_and_the_catalogue_methods(stub: pb_grpc.GroupingServiceStub,
                                                       operations: operations_pb2_grpc.OperationsStub) -> None:
    name = scheme()
    first = catalogue_of(await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
        scheme=name, threshold=3, upload=dip_pb2.DipHistoryUpload(history=history(
            ("K35.300", ["47.0100"], "1000.00"), ("K35.300", [], "10.00"), copies=3)))))
    second = catalogue_of(await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
        scheme=name, threshold=3, upload=dip_pb2.DipHistoryUpload(history=history(
            ("K35.300", ["47.0100", "99.1800"], "2000.00"), copies=4)))))
    assert (first.version, second.version) == (1, 2)
    probe = case("p", ["K35.300"], ["47.0100", "99.1800"])
    latest = (await stub.GroupCase(pb.GroupCaseRequest(scheme=name, case=probe, explain=True))).result
    pinned = (await stub.GroupCase(pb.GroupCaseRequest(scheme=f"{name}@1", case=probe))).result
    assert (latest.dip.group, latest.dip.match, latest.scheme_version) == (
        "K35.3|47.0100+99.1800", dip_pb2.DIP_MATCH_CORE, second.version_label)
    assert (pinned.dip.group, pinned.dip.match, pinned.scheme_version) == (
        "K35.3|47.0100", dip_pb2.DIP_MATCH_CORE_PARTIAL, first.version_label)
    assert latest.trace[-1] == "the key is core group K35.3|47.0100+99.1800"

    assert await stub.GetDipCatalogue(dip_pb2.GetDipCatalogueRequest(name=f"{name}/catalogues/-")) == second
    assert await stub.GetDipCatalogue(dip_pb2.GetDipCatalogueRequest(name=f"{name}/catalogues/1")) == first
    pages, token = [], ""
    while True:
        reply = await stub.ListDipCatalogues(dip_pb2.ListDipCataloguesRequest(parent=name, page_size=1,
                                                                              page_token=token))
        pages.append([c.version for c in reply.catalogues])
        token = reply.next_page_token
        if not token:
            break
    assert pages == [[1], [2]]
    listed = {s.name: s async for s in _schemes(stub)}
    assert listed[name].family == "DIP" and listed[name].version == second.version_label
    assert listed[name].dip_catalogue == second
    again = catalogue_of(await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
        scheme=name, threshold=3, upload=dip_pb2.DipHistoryUpload(history=history(
            ("K35.300", ["47.0100", "99.1800"], "2000.00"), copies=4)))))
    assert again == second  # the same build: the same operation and version, nothing new stored


async def _schemes(stub: pb_grpc.GroupingServiceStub) -> AsyncIterator[pb.Scheme]:
    token = ""
    while True:
        reply = await stub.ListSchemes(pb.ListSchemesRequest(page_token=token))
        for s in reply.schemes:
            yield s
        token = reply.next_page_token
        if not token:
            return


async def expect(call: Any, code: grpc.StatusCode, reason: str) -> error_details_pb2.BadRequest:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    assert failed.value.code() == code, failed.value.details()
    info, bad = error_info(failed.value)
    assert (info.reason, info.domain) == (reason, "grouping.medpay")
    return bad


async def test_errors(stub: pb_grpc.GroupingServiceStub, operations: operations_pb2_grpc.OperationsStub,
                      runtime: Runtime) -> None:
    upload = dip_pb2.DipHistoryUpload(history=history(("I10.x00", [], "1.00")))
    bad = await expect(stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(scheme=scheme(), threshold=0,
                                                                               upload=upload)),
                       grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    assert [v.field for v in bad.field_violations] == ["threshold"]
    bad = await expect(stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(scheme=scheme(), threshold=5)),
                       grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    assert [v.field for v in bad.field_violations] == ["source"]
    await expect(stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(
        scheme="schemes/dip-jinhua", threshold=5, upload=upload)), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    request_id = str(uuid.uuid4())
    await stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(scheme=scheme(), threshold=5, upload=upload,
                                                                  request_id=request_id))
    await expect(stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(scheme=scheme(), threshold=5, upload=upload,
                                                                         request_id=request_id)),
                 grpc.StatusCode.ALREADY_EXISTS, "RUN_KEY_REUSED")

    failed = await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
        scheme=scheme(), threshold=5, upload=dip_pb2.DipHistoryUpload(history=b'{"case_id": "a", "dx": ["I10"]}\n')))
    assert failed.HasField("error") and failed.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    info = error_details_pb2.ErrorInfo()
    assert failed.error.details[0].Unpack(info) and info.reason == "INVALID_HISTORY"
    assert "upload:1: total_cost is missing" in failed.error.message

    missing = scheme()
    await expect(stub.GroupCase(pb.GroupCaseRequest(scheme=missing, case=case("x", ["I10"], []))),
                 grpc.StatusCode.NOT_FOUND, "SCHEME_NOT_FOUND")
    name = scheme()
    await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(scheme=name, threshold=1, upload=upload))
    await expect(stub.GroupCase(pb.GroupCaseRequest(scheme=f"{name}@9", case=case("x", ["I10"], []))),
                 grpc.StatusCode.NOT_FOUND, "SCHEME_VERSION_NOT_FOUND")
    await expect(stub.GroupCase(pb.GroupCaseRequest(scheme=f"{name}@x", case=case("x", ["I10"], []))),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    await expect(stub.GetDipCatalogue(dip_pb2.GetDipCatalogueRequest(name=f"{name}/catalogues/first")),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    drg_schemes = [s.name async for s in _schemes(stub) if s.family != "DIP"]
    drg_scheme = drg_schemes[0]
    await expect(stub.ListDipCatalogues(dip_pb2.ListDipCataloguesRequest(parent=drg_scheme)),
                 grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_DIP_SCHEME")
    await expect(stub.ListDipGroups(dip_pb2.ListDipGroupsRequest(parent=f"{name}/catalogues/-", page_token="x")),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    ungroupable = (await stub.GroupCase(pb.GroupCaseRequest(scheme=name, case=case("u", ["", " "], ["47.0100"])))
                   ).result
    assert (ungroupable.status, ungroupable.dip.group, ungroupable.dip.match) == (
        pb.GROUP_STATUS_NO_DIAGNOSIS, "0000", dip_pb2.DIP_MATCH_UNGROUPABLE)


async def test_a_region_builds_from_its_feed_and_moves_to_dip(
        stub: pb_grpc.GroupingServiceStub, operations: operations_pb2_grpc.OperationsStub, runtime: Runtime,
        collection_app: tuple[Any, str, Any]) -> None:
    running, _, app = collection_app
    rows = [r for r, t in fresh(seed=907, cases=80) if not t["faults"]]
    region = rows[0]["fixmedins_code"][1:5] + "00"
    period = rows[0]["input"]["setlinfo"]["setl_end_date"][:7]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        feed = cpb_grpc.CollectionServiceStub(channel)
        for r in rows:
            await feed.UploadSettlementList(cpb.UploadSettlementListRequest(upload=cpb.SettlementListUpload(
                fixmedins_code=r["fixmedins_code"], fixmedins_name=r["fixmedins_name"],
                input_json=json.dumps(r["input"], ensure_ascii=False).encode())))
        name = f"schemes/dip-{region}-2026"
        made = catalogue_of(await built(stub, operations, dip_pb2.BuildDipCatalogueRequest(
            scheme=name, threshold=2, case_feed=dip_pb2.DipCaseFeedSource(
                settlement_periods=[Period.parse(period).to_proto()]))))
        assert made.source == dip_pb2.DIP_CATALOGUE_SOURCE_CASE_FEED and made.as_of_sequence > 0
        assert [str(Period.from_proto(p)) for p in made.base_periods] == [period]
        # the same catalogue, computed here from collection's as-of read at the pinned sequence
        builder = CatalogueBuilder(load_procedure_classes(surgery_list_path(runtime.reference_dir)))
        async for chunk in feed.StreamCases(cpb.StreamCasesRequest(
                region=region, settlement_periods=[Period.parse(period).to_proto()],
                as_of_sequence=made.as_of_sequence)):
            for c in chunk.cases:
                if c.status == cpb.LIST_STATUS_ACTIVE:
                    builder.add(DipCase(tuple(c.diagnosis_codes), tuple(c.procedure_codes)),
                                Decimal(c.total_cost.fen) / 100)
        expected = builder.catalogue(2)
        assert (made.case_count, made.core_group_count) == (expected.cases, len(expected.core))
        assert made.case_count >= len(rows)
        groups = [g.group_id for g in (await stub.ListDipGroups(dip_pb2.ListDipGroupsRequest(
            parent=f"{name}/catalogues/-", page_size=10_000))).groups]
        assert groups == [g.group_id for g in expected]

        # the region's stored cases regrouped under DIP: the feed now carries DIP groups
        scheme_id = name.removeprefix("schemes/")
        await regroup(app.new_uow, app.grouping, region=region, period=period, scheme_id=scheme_id)
        cases = [c async for chunk in feed.StreamCases(cpb.StreamCasesRequest(
            region=region, settlement_periods=[Period.parse(period).to_proto()])) for c in chunk.cases
            if c.status == cpb.LIST_STATUS_ACTIVE]  # regrouping leaves revoked lists as they were
        dip_groups = [g for c in cases for g in c.groups if g.scheme_id == scheme_id]
        assert len(dip_groups) == len(cases) and all(g.kind == cpb.GROUP_KIND_DIP for g in dip_groups)
        assert {g.scheme_version for g in dip_groups} == {made.version_label}
        assert any("|" in g.code for g in dip_groups) and all(g.code for g in dip_groups)
