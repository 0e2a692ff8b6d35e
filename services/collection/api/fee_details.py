"""gRPC servicer of medpay.collection.v1.FeeDetailService: proto <-> the fee-detail service layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from medpay.collection.v1 import fee_detail_service_pb2 as fee_pb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fee_grpc

from libs.common.auth.context import check_access, institution_region, scope_institution, scope_region
from libs.common.dates import Period
from libs.common.errors import InvalidArgument
from libs.common.money import Money
from libs.national.fees import fee_instant, scaled_text

from ..domain.envelope import content_digest
from ..domain.fee_details import DetailRow
from ..domain.model import Finding
from ..service_layer.fee_details import FeeCommand, FeeDetails, StayDetails
from .servicer import finding_proto

SERVICE_NAME = fee_pb.DESCRIPTOR.services_by_name["FeeDetailService"].full_name


class FeeDetailServicer(fee_grpc.FeeDetailServiceServicer):
    def __init__(self, details: FeeDetails) -> None:
        self._details = details

    async def UploadFeeDetails(self, request: fee_pb.UploadFeeDetailsRequest,
                               context: Any) -> fee_pb.UploadFeeDetailsResponse:
        if not request.fixmedins_code:
            raise InvalidArgument.field("fixmedins_code", "is required")
        scope_institution(request.fixmedins_code)
        try:
            body = orjson.loads(request.input_json)
        except orjson.JSONDecodeError as bad:
            raise InvalidArgument.field("input_json", f"not valid JSON: {bad}") from None
        key = f"request:{request.fixmedins_code}:{request.request_id}" if request.request_id else None
        cmd = FeeCommand(key, content_digest("2301", request.fixmedins_code, body), request.fixmedins_code, body)
        outcome, _ = await self._details.upload(cmd)
        return upload_response(outcome)

    async def RevokeFeeDetails(self, request: fee_pb.RevokeFeeDetailsRequest,
                               context: Any) -> fee_pb.RevokeFeeDetailsResponse:
        if not request.fixmedins_code:
            raise InvalidArgument.field("fixmedins_code", "is required")
        scope_institution(request.fixmedins_code)
        body = {"data": {"mdtrt_id": request.mdtrt_id, "feedetl_sn": request.feedetl_sn, "psn_no": request.psn_no}}
        key = f"request:{request.fixmedins_code}:{request.request_id}" if request.request_id else None
        cmd = FeeCommand(key, content_digest("2302", request.fixmedins_code, body), request.fixmedins_code, body)
        outcome, _ = await self._details.revoke(cmd)
        return fee_pb.RevokeFeeDetailsResponse(revoked_count=outcome["revoked_count"],
                                               stay_line_count=outcome["stay_line_count"])

    async def GetStayFeeDetails(self, request: fee_pb.GetStayFeeDetailsRequest,
                                context: Any) -> fee_pb.StayFeeDetails:
        code = scope_institution(request.fixmedins_code)
        check_access(code, institution_region(code), f"fee details of {code}")
        return stay_proto(await self._details.stay(code, request.mdtrt_id))

    async def StreamFeeDetails(self, request: fee_pb.StreamFeeDetailsRequest,
                               context: Any) -> AsyncIterator[fee_pb.StreamFeeDetailsResponse]:
        months = [str(m) for i, p in enumerate(request.settlement_periods)
                  for m in Period.from_proto(p, f"settlement_periods[{i}]").months()]
        async for chunk in self._details.region(scope_region(request.region), months):
            yield fee_pb.StreamFeeDetailsResponse(stays=[stay_proto(s) for s in chunk])


def add_to_server(servicer: FeeDetailServicer, server: grpc.aio.Server) -> None:
    fee_grpc.add_FeeDetailServiceServicer_to_server(servicer, server)


def upload_response(outcome: dict[str, Any]) -> fee_pb.UploadFeeDetailsResponse:
    return fee_pb.UploadFeeDetailsResponse(
        mdtrt_id=outcome["mdtrt_id"],
        fee_details=[fee_pb.FeeDetail(feedetl_sn=x["sn"], mdtrt_id=outcome["mdtrt_id"], fee_time=fee_time(x["time"]),
                                      med_list_codg=x["code"], med_chrgitm_type=x["category"],
                                      cnt=scaled_text(x["cnt"]), pric=scaled_text(x["pric"]),
                                      amount=Money(x["amount"]).to_proto(), init_feedetl_sn=x["refers_to"])
                     for x in outcome["lines"]],
        findings=[finding_proto(Finding.from_json(f)) for f in outcome["findings"]],
        stay_line_count=outcome["stay_line_count"], stay_total=Money(outcome["stay_total_fen"]).to_proto())


def stay_proto(s: StayDetails) -> fee_pb.StayFeeDetails:
    message = fee_pb.StayFeeDetails(fixmedins_code=s.fixmedins_code, mdtrt_id=s.mdtrt_id,
                                    fee_details=[detail_proto(r) for r in s.rows],
                                    findings=[finding_proto(f) for f in s.findings])
    if s.update_time is not None:
        message.update_time.FromDatetime(s.update_time)
    return message


def detail_proto(r: DetailRow) -> fee_pb.FeeDetail:
    line = r.line
    return fee_pb.FeeDetail(feedetl_sn=line.sn, mdtrt_id=line.mdtrt_id, psn_no=r.psn_no, med_type=r.med_type,
                            fee_time=fee_time(line.time), med_list_codg=line.code,
                            medins_list_codg=r.medins_list_codg, med_chrgitm_type=line.category,
                            cnt=scaled_text(line.cnt), pric=scaled_text(line.pric),
                            amount=Money(line.amount).to_proto(), bilg_dept_codg=r.dept, bilg_dr_codg=r.doctor,
                            init_feedetl_sn=line.refers_to)


def fee_time(local: str) -> Timestamp:
    """A "yyyy-MM-dd HH:mm:ss" in Asia/Shanghai as the instant it is."""
    ts = Timestamp()
    ts.FromDatetime(fee_instant(local))
    return ts


