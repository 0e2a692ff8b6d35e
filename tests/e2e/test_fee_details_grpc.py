"""Fee details (2301/2302) over medpay.collection.v1.FeeDetailService, on a real server and database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.type import date_pb2
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc
from medpay.collection.v1 import fee_detail_service_pb2 as fee_pb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fee_grpc

from .lists import details_of, fresh, own_ids
from .rpc_errors import error_info

App = tuple[Any, str, Any]


@pytest.fixture
async def stubs(collection_app: App) -> AsyncIterator[tuple[fee_grpc.FeeDetailServiceStub,
                                                            pb_grpc.CollectionServiceStub]]:
    running, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield fee_grpc.FeeDetailServiceStub(channel), pb_grpc.CollectionServiceStub(channel)


def upload(hospital: str, lines: list[dict[str, Any]], request_id: str = "") -> fee_pb.UploadFeeDetailsRequest:
    return fee_pb.UploadFeeDetailsRequest(request_id=request_id, fixmedins_code=hospital,
                                          input_json=json.dumps({"feedetail": lines}).encode())


def list_upload(request: dict[str, Any]) -> pb.UploadSettlementListRequest:
    return pb.UploadSettlementListRequest(upload=pb.SettlementListUpload(
        fixmedins_code=request["fixmedins_code"], fixmedins_name=request["fixmedins_name"],
        input_json=json.dumps(request["input"], ensure_ascii=False).encode()))


def clean(seed: int, count: int) -> list[dict[str, Any]]:
    """Clean lists whose ids no other test uses (synth numbers stays from 1 in every run)."""
    return own_ids([r for r, t in fresh(seed=seed, cases=count * 3) if not t["faults"]][:count], f"F{seed}")


async def test_upload_is_idempotent_and_checked_against_the_list(stubs: Any) -> None:
    fees, lists = stubs
    request = clean(61, 1)[0]
    hospital, lines = request["fixmedins_code"], details_of(request)
    first = await fees.UploadFeeDetails(upload(hospital, lines[:4], "fee-61-a"))
    assert first.stay_line_count == 4 and [d.feedetl_sn for d in first.fee_details] == ["1", "2", "3", "4"]
    assert not first.findings  # no list yet: nothing to compare with
    assert await fees.UploadFeeDetails(upload(hospital, lines[:4], "fee-61-a")) == first
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await fees.UploadFeeDetails(upload(hospital, lines[:5], "fee-61-a"))
    assert reused.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert error_info(reused.value)[0].reason == "REQUEST_ID_REUSED"

    await lists.UploadSettlementList(list_upload(request))
    partial = await fees.UploadFeeDetails(upload(hospital, lines[4:6]))
    assert [f.code for f in partial.findings] == ["FD-SUM-001"]  # the list is there: 6 lines do not make its sum
    rest = await fees.UploadFeeDetails(upload(hospital, lines[6:]))
    assert not rest.findings and rest.stay_line_count == len(lines)
    total = sum(int(x["det_item_fee_sumamt"].replace(".", "")) for x in lines)
    assert rest.stay_total.fen == total

    stay = await fees.GetStayFeeDetails(fee_pb.GetStayFeeDetailsRequest(fixmedins_code=hospital,
                                                                        mdtrt_id=lines[0]["mdtrt_id"]))
    assert [d.feedetl_sn for d in stay.fee_details] == [x["feedetl_sn"] for x in lines]
    assert stay.fee_details[0].cnt == "1" and stay.fee_details[0].med_chrgitm_type == lines[0]["med_chrgitm_type"]


async def test_details_before_their_list_are_checked_against_it_once_it_arrives(stubs: Any) -> None:
    """Hospitals upload details during the stay and the list after discharge: reading the stay compares its
    details with the list as it is now, not as it was at the last upload."""
    fees, lists = stubs
    request = clean(66, 1)[0]
    hospital, lines = request["fixmedins_code"], details_of(request)
    mdtrt = lines[0]["mdtrt_id"]
    assert not (await fees.UploadFeeDetails(upload(hospital, lines[:-1]))).findings  # no list yet
    await lists.UploadSettlementList(list_upload(request))
    get = fee_pb.GetStayFeeDetailsRequest(fixmedins_code=hospital, mdtrt_id=mdtrt)
    missing = await fees.GetStayFeeDetails(get)
    assert [f.code for f in missing.findings] == ["FD-SUM-001"]  # the last line is not there
    period = request["input"]["setlinfo"]["setl_end_date"][:7]
    streamed = [s async for chunk in fees.StreamFeeDetails(fee_pb.StreamFeeDetailsRequest(
        region=hospital[1:5] + "00", settlement_periods=[date_pb2.Date(year=int(period[:4]), month=int(period[5:]))]))
        for s in chunk.stays if (s.fixmedins_code, s.mdtrt_id) == (hospital, mdtrt)]
    assert [[f.code for f in s.findings] for s in streamed] == [["FD-SUM-001"]]
    assert not (await fees.UploadFeeDetails(upload(hospital, lines[-1:]))).findings
    assert not (await fees.GetStayFeeDetails(get)).findings


async def test_a_line_uploaded_twice_is_refused_until_revoked(stubs: Any) -> None:
    fees, _ = stubs
    request = clean(62, 1)[0]
    hospital, lines = request["fixmedins_code"], details_of(request)
    mdtrt = lines[0]["mdtrt_id"]
    await fees.UploadFeeDetails(upload(hospital, lines[:3]))
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await fees.UploadFeeDetails(upload(hospital, lines[2:4]))
    info, bad = error_info(again.value)
    assert again.value.code() is grpc.StatusCode.INVALID_ARGUMENT and info.reason == "INVALID_FEE_DETAILS"
    assert [v.field for v in bad.field_violations] == ["feedetail[0].feedetl_sn"]

    one = await fees.RevokeFeeDetails(fee_pb.RevokeFeeDetailsRequest(fixmedins_code=hospital, mdtrt_id=mdtrt,
                                                                     feedetl_sn="3", request_id="rev-62"))
    assert (one.revoked_count, one.stay_line_count) == (1, 2)
    assert await fees.RevokeFeeDetails(fee_pb.RevokeFeeDetailsRequest(
        fixmedins_code=hospital, mdtrt_id=mdtrt, feedetl_sn="3", request_id="rev-62")) == one  # a replay
    assert (await fees.UploadFeeDetails(upload(hospital, lines[2:4]))).stay_line_count == 4
    everything = await fees.RevokeFeeDetails(fee_pb.RevokeFeeDetailsRequest(fixmedins_code=hospital, mdtrt_id=mdtrt))
    assert (everything.revoked_count, everything.stay_line_count) == (4, 0)
    with pytest.raises(grpc.aio.AioRpcError) as nothing:
        await fees.RevokeFeeDetails(fee_pb.RevokeFeeDetailsRequest(fixmedins_code=hospital, mdtrt_id=mdtrt))
    assert nothing.value.code() is grpc.StatusCode.NOT_FOUND
    assert nothing.value.details() == f"{hospital} mdtrt_id {mdtrt} has no current fee details"
    with pytest.raises(grpc.aio.AioRpcError) as no_line:
        await fees.RevokeFeeDetails(fee_pb.RevokeFeeDetailsRequest(fixmedins_code=hospital, mdtrt_id=mdtrt,
                                                                   feedetl_sn="3"))
    assert no_line.value.details() == f"{hospital} mdtrt_id {mdtrt} has no current line with feedetl_sn 3"
    assert error_info(no_line.value)[0].reason == "STAY_NOT_FOUND"


async def test_unreadable_lines_and_bad_requests_are_refused_precisely(stubs: Any) -> None:
    fees, _ = stubs
    request = clean(63, 1)[0]
    hospital, lines = request["fixmedins_code"], details_of(request)
    lines[1]["cnt"], lines[2]["med_chrgitm_type"] = "two", "99"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await fees.UploadFeeDetails(upload(hospital, lines))
    info, bad = error_info(caught.value)
    assert info.reason == "INVALID_FEE_DETAILS" and set(info.metadata["findings"].split(",")) == {
        "FD-REQ-003", "FD-CAT-001"}
    assert {v.field for v in bad.field_violations} == {"feedetail[1]", "feedetail[2].med_chrgitm_type"}
    for broken in (fee_pb.UploadFeeDetailsRequest(fixmedins_code=hospital, input_json=b"{nope"),
                   fee_pb.UploadFeeDetailsRequest(input_json=b"{}")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await fees.UploadFeeDetails(broken)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    amount = details_of(request)[:1]
    amount[0]["det_item_fee_sumamt"] = "0.01"
    stored = await fees.UploadFeeDetails(upload(hospital, amount))
    assert [f.code for f in stored.findings] == ["FD-AMT-001"]  # stored, with a data-quality finding


async def test_details_of_a_region_and_period_stream_by_stay(stubs: Any) -> None:
    fees, lists = stubs
    requests = clean(64, 6)
    for request in requests:
        await lists.UploadSettlementList(list_upload(request))
        await fees.UploadFeeDetails(upload(request["fixmedins_code"], details_of(request, 2)))
    period = requests[0]["input"]["setlinfo"]["setl_end_date"][:7]
    region = requests[0]["fixmedins_code"][1:5] + "00"
    months = [date_pb2.Date(year=int(period[:4]), month=int(period[5:]))]
    stays = [s async for chunk in fees.StreamFeeDetails(fee_pb.StreamFeeDetailsRequest(
        region=region, settlement_periods=months)) for s in chunk.stays]
    mine = {(r["fixmedins_code"], r["input"]["setlinfo"]["mdtrt_id"]) for r in requests
            if r["input"]["setlinfo"]["setl_end_date"][:7] == period}
    got = {(s.fixmedins_code, s.mdtrt_id) for s in stays}
    assert mine <= got
    assert all(len(s.fee_details) == 2 * len(r["input"]["iteminfo"]) and not s.findings for s in stays
               for r in requests if (s.fixmedins_code, s.mdtrt_id) == (r["fixmedins_code"],
                                                                      r["input"]["setlinfo"]["mdtrt_id"]))
    assert [(s.fixmedins_code, s.mdtrt_id) for s in stays] == sorted(got)
    with pytest.raises(grpc.aio.AioRpcError) as bad_region:
        [m async for m in fees.StreamFeeDetails(fee_pb.StreamFeeDetailsRequest(region="33", settlement_periods=months))]
    assert bad_region.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_2301_and_2302_through_the_national_door(collection_app: App) -> None:
    from .lists import post_all

    _, base, _ = collection_app
    request = clean(65, 1)[0]
    lines = details_of(request)
    envelope = {**request, "infno": "2301", "msgid": request["msgid"][:-4] + "2301",
                "input": {"feedetail": lines}}
    first, replay = await post_all(base, [envelope]), await post_all(base, [envelope])
    assert first[0]["infcode"] == 0, first[0]["err_msg"]
    result = first[0]["output"]["result"]
    assert [r["feedetl_sn"] for r in result] == [x["feedetl_sn"] for x in lines]
    assert result[0]["det_item_fee_sumamt"] == lines[0]["det_item_fee_sumamt"] and result[0]["memo"] == ""
    assert replay[0]["output"] == first[0]["output"]  # the msgid again: the stored outcome, nothing added
    other = {**envelope, "input": {"feedetail": lines[:2]}}
    reused = await post_all(base, [other])
    assert reused[0]["infcode"] == -1 and "REQUEST_ID_REUSED" in reused[0]["err_msg"]

    bad = {**envelope, "msgid": request["msgid"][:-4] + "2399",
           "input": {"feedetail": [{**lines[0], "feedetl_sn": "900", "pric": "abc"}]}}
    refused = (await post_all(base, [bad]))[0]
    assert refused["infcode"] == -1 and "FD-REQ-003" in refused["err_msg"] and "pric" in refused["err_msg"]

    wrong = {**envelope, "msgid": request["msgid"][:-4] + "2398",
             "input": {"feedetail": [{**lines[0], "feedetl_sn": "901", "det_item_fee_sumamt": "0.01"}]}}
    warned = (await post_all(base, [wrong]))[0]
    assert warned["infcode"] == 0, warned["err_msg"]  # stored, with its data-quality finding
    assert [(w["code"], w["field"]) for w in warned["output"]["warnings"]] == [("FD-AMT-001", "feedetl_sn 901")]
    assert "0.01" in warned["output"]["result"][0]["memo"] and warned["output"]["stay_line_count"] == len(lines) + 1

    revoke = {**request, "infno": "2302", "msgid": request["msgid"][:-4] + "2302",
              "input": {"data": {"mdtrt_id": lines[0]["mdtrt_id"], "feedetl_sn": "0000", "psn_no": ""}}}
    revoked = (await post_all(base, [revoke]))[0]
    assert revoked["infcode"] == 0 and revoked["output"] == {"revoked_count": len(lines) + 1, "stay_line_count": 0}
