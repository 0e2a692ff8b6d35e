"""The coding service over a real grpc.aio server: health, reflection, round trips, error details."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from medpay.coding.v1 import coding_service_pb2 as pb
from medpay.coding.v1 import coding_service_pb2_grpc as pb_grpc

from .rpc_errors import error_info


@pytest.fixture
def stub(coding_channel: grpc.aio.Channel) -> pb_grpc.CodingServiceStub:
    return pb_grpc.CodingServiceStub(coding_channel)


async def test_health_reports_serving_for_the_server_and_the_service(coding_channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(coding_channel)
    for name in ("", "medpay.coding.v1.CodingService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(coding_channel: grpc.aio.Channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(coding_channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names = set()
    async for reply in reflection.ServerReflectionInfo(iter([request])):
        names |= {s.name for s in reply.list_services_response.service}
    assert {"medpay.coding.v1.CodingService", "grpc.health.v1.Health"} <= names


async def test_validate_codes_round_trip(stub: pb_grpc.CodingServiceStub) -> None:
    codes = ["H33070300089", "XA01ABD075A002010100483", "I21.000x005", "36.0600", "Q99.999", "X1"]
    reply = await stub.ValidateCodes(pb.ValidateCodesRequest(codes=[pb.CodeReference(code=c) for c in codes]))
    got = [(r.code, pb.ValidationStatus.Name(r.status)) for r in reply.results]
    assert got == [
        ("H33070300089", "VALIDATION_STATUS_VALID"), ("XA01ABD075A002010100483", "VALIDATION_STATUS_VALID"),
        ("I21.000x005", "VALIDATION_STATUS_VALID"), ("36.0600", "VALIDATION_STATUS_VALID"),
        ("Q99.999", "VALIDATION_STATUS_UNKNOWN"), ("X1", "VALIDATION_STATUS_MALFORMED")]
    assert reply.results[2].version == "2.0" and reply.results[2].code_system_id == "icd10-chs"


async def test_list_codes_pages_through_a_filtered_listing(stub: pb_grpc.CodingServiceStub) -> None:
    seen: list[str] = []
    token = ""
    while True:
        reply = await stub.ListCodes(pb.ListCodesRequest(parent="codeSystems/icd10-chs/versions/-", code_prefix="I21",
                                                         name_contains="心肌梗死", page_size=2, page_token=token))
        seen += [c.code for c in reply.codes]
        assert all("心肌梗死" in c.display_name for c in reply.codes)
        assert all(c.name == f"codeSystems/icd10-chs/versions/2.0/codes/{c.code}" for c in reply.codes)
        token = reply.next_page_token
        if not token:
            break
    assert len(seen) >= 3 and seen == sorted(set(seen))


async def test_get_code_and_systems(stub: pb_grpc.CodingServiceStub) -> None:
    code = await stub.GetCode(pb.GetCodeRequest(name="codeSystems/icd10-chs/versions/-/codes/I21.000x005"))
    assert code.display_name == "急性前壁尖部心肌梗死" and code.status == pb.CODE_STATUS_ACTIVE
    assert code.name == "codeSystems/icd10-chs/versions/2.0/codes/I21.000x005"  # the version in force, named
    same = await stub.GetCode(pb.GetCodeRequest(name=code.name))
    assert same == code
    systems = {s.name: s for s in (await stub.ListCodeSystems(pb.ListCodeSystemsRequest())).code_systems}
    assert len(systems) >= 16
    assert systems["codeSystems/icd10-chs"].active_version == "codeSystems/icd10-chs/versions/2.0"
    versions = (await stub.ListCodeVersions(pb.ListCodeVersionsRequest(
        parent="codeSystems/admin-division"))).code_versions
    assert versions[0].active and versions[0].effective.start_date.year == 2023
    assert versions[0].name.startswith("codeSystems/admin-division/versions/")


async def test_every_list_pages_and_page_size_zero_is_the_default(stub: pb_grpc.CodingServiceStub) -> None:
    everything = (await stub.ListCodeSystems(pb.ListCodeSystemsRequest())).code_systems
    paged, token = [], ""
    while True:
        reply = await stub.ListCodeSystems(pb.ListCodeSystemsRequest(page_size=5, page_token=token))
        assert len(reply.code_systems) <= 5
        paged += reply.code_systems
        token = reply.next_page_token
        if not token:
            break
    assert [s.name for s in paged] == [s.name for s in everything] == sorted(s.name for s in everything)
    one = await stub.ListCodeVersions(pb.ListCodeVersionsRequest(parent="codeSystems/icd10-chs", page_size=1))
    assert len(one.code_versions) == 1
    if one.next_page_token:
        rest = await stub.ListCodeVersions(pb.ListCodeVersionsRequest(
            parent="codeSystems/icd10-chs", page_size=1, page_token=one.next_page_token))
        assert rest.code_versions[0].name != one.code_versions[0].name
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListCodeVersions(pb.ListCodeVersionsRequest(parent="codeSystems/icd10-chs",
                                                               page_token="cDE6YWJj"))  # "p1:abc": ours, not a number
    assert error_info(caught.value)[0].reason == "INVALID_PAGE_TOKEN"


async def test_map_codes_reports_unmapped(stub: pb_grpc.CodingServiceStub) -> None:
    reply = await stub.MapCodes(pb.MapCodesRequest(code_system="icd10-chs", codes=["I21.000", "NOPE"]))
    assert [(m.source_code, m.mapped) for m in reply.mappings] == [("I21.000", True), ("NOPE", False)]


async def test_oversize_batch_is_invalid_argument_naming_the_limit(stub: pb_grpc.CodingServiceStub) -> None:
    request = pb.ValidateCodesRequest(codes=[pb.CodeReference(code="I21.000")] * 10_001)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ValidateCodes(request)
    info, bad = error_info(caught.value)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "10,000" in (caught.value.details() or "")
    assert info.reason == "BATCH_TOO_LARGE" and bad.field_violations[0].field == "codes"


async def test_unknown_code_system_is_not_found(stub: pb_grpc.CodingServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListCodes(pb.ListCodesRequest(parent="codeSystems/icd-11/versions/-"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_info(caught.value)[0].reason == "CODE_SYSTEM_NOT_FOUND"


@pytest.mark.parametrize("name", ["", "codeSystems/icd10-chs", "codeSystems/icd10-chs/codes/I21.000"])
async def test_a_malformed_name_is_invalid_argument_naming_it(stub: pb_grpc.CodingServiceStub, name: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetCode(pb.GetCodeRequest(name=name))
    info, bad = error_info(caught.value)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (info.reason, bad.field_violations[0].field) == ("INVALID_FIELD", "name")
    assert "codeSystems/{code_system}/versions/{version}/codes/{code}" in bad.field_violations[0].description


async def test_unknown_version_and_code_are_not_found(stub: pb_grpc.CodingServiceStub) -> None:
    for name, reason in (("codeSystems/icd10-chs/versions/9.9/codes/I21.000", "CODE_VERSION_NOT_FOUND"),
                         ("codeSystems/icd10-chs/versions/-/codes/Q99.999", "CODE_NOT_FOUND")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetCode(pb.GetCodeRequest(name=name))
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND and error_info(caught.value)[0].reason == reason


async def test_bad_page_token_is_invalid_argument(stub: pb_grpc.CodingServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListCodes(pb.ListCodesRequest(parent="codeSystems/icd10-chs/versions/-", page_token="%%%"))
    assert error_info(caught.value)[0].reason == "INVALID_PAGE_TOKEN"


async def test_responses_carry_a_request_id(stub: pb_grpc.CodingServiceStub) -> None:
    call = stub.ValidateCodes(pb.ValidateCodesRequest(codes=[pb.CodeReference(code="I21.000")]),
                              metadata=(("x-request-id", "req-123"),))
    await call
    assert ("x-request-id", "req-123") in list(await call.trailing_metadata())
