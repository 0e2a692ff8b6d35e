"""The grouping service over a real grpc.aio server: results equal the in-process engine's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.runtime import Runtime
from services.grouping.adapters.case_json import case_from_json
from services.grouping.api.mapping import case_to_proto
from services.grouping.bootstrap import build_registry
from services.grouping.domain.case import Case

from .rpc_errors import error_info


def scheme_id(runtime: Runtime) -> str:
    return "chs-drg-1.1" if (runtime.reference_dir / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"


def sample_cases(runtime: Runtime, n: int) -> list[tuple[str, Case]]:
    folder = runtime.reference_dir / "conformance" / "chs-drg-1.1"
    if folder.is_dir():
        lines = (folder / "cases.jsonl").read_text().splitlines()[:n]
        return [(json.loads(line)["id"], case_from_json(json.loads(line))) for line in lines]
    base = [Case(dx=("I21.001", "N17.900"), px=("36.0600",), sex=1, age_years=60),
            Case(dx=("K35.800",), px=("47.0100",), sex=2, age_years=30),
            Case(dx=("P07.100",), sex=2, age_years=0, age_days=3, birth_weight_g=1200)]
    return [(f"c{i}", base[i % 3]) for i in range(n)]


@pytest.fixture
def stub(grouping_channel: grpc.aio.Channel) -> pb_grpc.GroupingServiceStub:
    return pb_grpc.GroupingServiceStub(grouping_channel)


async def test_batch_and_stream_equal_the_engine(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    sid = scheme_id(runtime)
    cases = sample_cases(runtime, 500)
    expected = [(r.drg, r.adrg, r.mdc) for r in build_registry(runtime).group(sid, [c for _, c in cases])]
    messages = [case_to_proto(c, cid) for cid, c in cases]
    batch = await stub.GroupCases(pb.GroupCasesRequest(scheme_id=sid, cases=messages))
    assert [(r.drg, r.adrg, r.mdc) for r in batch.results] == expected
    assert [r.case_id for r in batch.results] == [cid for cid, _ in cases]

    async def requests() -> AsyncIterator[pb.StreamGroupCasesRequest]:
        for start in range(0, len(messages), 100):
            yield pb.StreamGroupCasesRequest(scheme_id=sid, cases=messages[start:start + 100])

    streamed = [r async for reply in stub.StreamGroupCases(requests()) for r in reply.results]
    assert [(r.drg, r.adrg, r.mdc) for r in streamed] == expected


async def test_single_case_with_checks_and_explanation(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    case = Case(dx=("I21.001", "N17.900"), px=("36.0600",), sex=1, age_years=60, los_days=7)
    reply = await stub.GroupCase(pb.GroupCaseRequest(scheme_id=scheme_id(runtime), case=case_to_proto(case, "x"),
                                                     run_checks=True, explain=True))
    r = reply.result
    assert r.status == pb.GROUP_STATUS_GROUPED and r.mdc == "F" and r.drg.startswith("F")
    assert r.scheme_id == scheme_id(runtime) and "+" in r.scheme_version
    assert any(line.startswith(f"DRG {r.drg}") for line in r.trace)
    assert any("N17.900: counts as MCC" in line for line in r.trace)


async def test_check_failure_is_a_result_not_an_error(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    case = Case(dx=("O80.000",), sex=1, age_years=30)
    reply = await stub.GroupCase(pb.GroupCaseRequest(scheme_id=scheme_id(runtime), case=case_to_proto(case),
                                                     run_checks=True))
    assert reply.result.status == pb.GROUP_STATUS_SEX_DIAGNOSIS_CONFLICT and reply.result.drg == "0000"


async def test_schemes_and_drgs(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    schemes = {s.scheme_id: s for s in (await stub.ListSchemes(pb.ListSchemesRequest())).schemes}
    assert scheme_id(runtime) in schemes and schemes[scheme_id(runtime)].drg_count > 0
    drg = "FM11" if scheme_id(runtime) == "medpay-sample" else "GZ13"
    reply = await stub.GetDrg(pb.GetDrgRequest(scheme_id=scheme_id(runtime), drg=drg))
    assert (reply.mdc, reply.adrg) == (drg[0], drg[:3]) and reply.name


async def test_unknown_scheme_is_not_found(stub: pb_grpc.GroupingServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GroupCases(pb.GroupCasesRequest(scheme_id="chs-drg-9.9"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_info(caught.value)[0].reason == "SCHEME_NOT_FOUND"


async def test_oversize_batch_is_rejected(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    cases = [pb.GroupingCase(diagnoses=["I21.001"])] * 10_001
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GroupCases(pb.GroupCasesRequest(scheme_id=scheme_id(runtime), cases=cases))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[0].reason == "BATCH_TOO_LARGE"
