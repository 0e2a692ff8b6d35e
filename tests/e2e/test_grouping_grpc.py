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
    batch = await stub.GroupCases(pb.GroupCasesRequest(scheme=f"schemes/{sid}", cases=messages))
    assert [(r.drg, r.adrg, r.mdc) for r in batch.results] == expected
    assert [r.case_id for r in batch.results] == [cid for cid, _ in cases]

    async def requests() -> AsyncIterator[pb.StreamGroupCasesRequest]:
        for start in range(0, len(messages), 100):
            yield pb.StreamGroupCasesRequest(scheme=f"schemes/{sid}", cases=messages[start:start + 100])

    streamed = [r async for reply in stub.StreamGroupCases(requests()) for r in reply.results]
    assert [(r.drg, r.adrg, r.mdc) for r in streamed] == expected


async def test_single_case_with_checks_and_explanation(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    case = Case(dx=("I21.001", "N17.900"), px=("36.0600",), sex=1, age_years=60, los_days=7)
    reply = await stub.GroupCase(pb.GroupCaseRequest(scheme=f"schemes/{scheme_id(runtime)}",
                                                     case=case_to_proto(case, "x"),
                                                     run_checks=True, explain=True))
    r = reply.result
    assert r.status == pb.GROUP_STATUS_GROUPED and r.mdc == "F" and r.drg.startswith("F")
    assert r.scheme == f"schemes/{scheme_id(runtime)}" and "+" in r.scheme_version
    assert any(line.startswith(f"DRG {r.drg}") for line in r.trace)
    assert any("N17.900: counts as MCC" in line for line in r.trace)


async def test_check_failure_is_a_result_not_an_error(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    case = Case(dx=("O80.000",), sex=1, age_years=30)
    reply = await stub.GroupCase(pb.GroupCaseRequest(scheme=f"schemes/{scheme_id(runtime)}", case=case_to_proto(case),
                                                     run_checks=True))
    assert reply.result.status == pb.GROUP_STATUS_SEX_DIAGNOSIS_CONFLICT and reply.result.drg == "0000"


async def test_schemes_and_drgs(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    schemes = {s.name: s for s in (await stub.ListSchemes(pb.ListSchemesRequest())).schemes}
    name = f"schemes/{scheme_id(runtime)}"
    assert name in schemes and schemes[name].drg_count > 0 and schemes[name].family
    drg = "FM11" if scheme_id(runtime) == "medpay-sample" else "GZ13"
    reply = await stub.GetDrg(pb.GetDrgRequest(name=f"{name}/drgs/{drg}"))
    assert (reply.mdc, reply.adrg, reply.code) == (drg[0], drg[:3], drg) and reply.display_name
    assert reply.name == f"{name}/drgs/{drg}" and reply.scheme_version == schemes[name].version


async def test_list_schemes_pages(stub: pb_grpc.GroupingServiceStub) -> None:
    everything = [s.name for s in (await stub.ListSchemes(pb.ListSchemesRequest())).schemes]
    paged, token = [], ""
    while True:
        reply = await stub.ListSchemes(pb.ListSchemesRequest(page_size=1, page_token=token))
        assert len(reply.schemes) == 1
        paged += [s.name for s in reply.schemes]
        token = reply.next_page_token
        if not token:
            break
    assert paged == everything == sorted(everything)


@pytest.mark.parametrize(("request_", "code", "reason"), [
    (pb.GetDrgRequest(name="schemes/chs-drg-9.9/drgs/FM11"), "NOT_FOUND", "SCHEME_NOT_FOUND"),
    (pb.GetDrgRequest(name="FM11"), "INVALID_ARGUMENT", "INVALID_FIELD"),
])
async def test_get_drg_errors(stub: pb_grpc.GroupingServiceStub, request_: pb.GetDrgRequest, code: str,
                              reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDrg(request_)
    assert caught.value.code().name == code and error_info(caught.value)[0].reason == reason


async def test_an_unknown_drg_is_not_found(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDrg(pb.GetDrgRequest(name=f"schemes/{scheme_id(runtime)}/drgs/ZZ99"))
    assert error_info(caught.value)[0].reason == "DRG_NOT_FOUND"


async def test_a_scheme_id_where_a_name_belongs_is_invalid_argument(stub: pb_grpc.GroupingServiceStub,
                                                                    runtime: Runtime) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GroupCases(pb.GroupCasesRequest(scheme=scheme_id(runtime)))
    info, bad = error_info(caught.value)
    assert (info.reason, bad.field_violations[0].field) == ("INVALID_FIELD", "scheme")


async def test_unknown_scheme_is_not_found(stub: pb_grpc.GroupingServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GroupCases(pb.GroupCasesRequest(scheme="schemes/chs-drg-9.9"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_info(caught.value)[0].reason == "SCHEME_NOT_FOUND"


async def test_oversize_batch_is_rejected(stub: pb_grpc.GroupingServiceStub, runtime: Runtime) -> None:
    cases = [pb.GroupingCase(diagnoses=["I21.001"])] * 10_001
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GroupCases(pb.GroupCasesRequest(scheme=f"schemes/{scheme_id(runtime)}", cases=cases))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value)[0].reason == "BATCH_TOO_LARGE"
