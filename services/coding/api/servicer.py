"""gRPC servicer of medpay.coding.v1: proto -> domain -> proto, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from medpay.coding.v1 import coding_service_pb2 as pb
from medpay.coding.v1 import coding_service_pb2_grpc as pb_grpc
from medpay.common.v1 import common_pb2

from libs.common.dates import date_to_proto
from libs.common.errors import InvalidArgument, NotFound, check_batch_size
from libs.common.names import format_name, parse_name
from libs.common.paging import decode_token, encode_token, page_size

from ..domain.model import CodeRef, ValidationStatus
from ..domain.systems import BY_ID, MAP_OF
from ..domain.validation import MAX_BATCH, map_codes, validate
from ..service_layer.index import IndexHolder
from ..service_layer.unit_of_work import CodingUnitOfWork

SYSTEM = "codeSystems/{code_system}"
VERSION = "codeSystems/{code_system}/versions/{version}"
CODE = "codeSystems/{code_system}/versions/{version}/codes/{code}"
ACTIVE = "-"
"""The version segment that means "the version in force" when reading."""

_STATUS = {
    ValidationStatus.VALID: pb.VALIDATION_STATUS_VALID,
    ValidationStatus.UNKNOWN: pb.VALIDATION_STATUS_UNKNOWN,
    ValidationStatus.MALFORMED: pb.VALIDATION_STATUS_MALFORMED,
    ValidationStatus.RETIRED: pb.VALIDATION_STATUS_RETIRED,
}


class CodingServicer(pb_grpc.CodingServiceServicer):
    def __init__(self, new_uow: Callable[[], CodingUnitOfWork], index: IndexHolder) -> None:
        self._new_uow = new_uow
        self._index = index

    async def ListCodeSystems(self, request: pb.ListCodeSystemsRequest, context: Any) -> pb.ListCodeSystemsResponse:
        size = page_size(request.page_size, 50, 100)
        after = decode_token(request.page_token)
        async with self._new_uow() as uow:
            active = {v.system_id: v for v in await uow.codes.versions() if v.active}
        ids = [i for i in sorted(BY_ID) if i > after]
        page = ids[:size]
        systems = [pb.CodeSystem(name=format_name(SYSTEM, i), title=BY_ID[i].title, format=BY_ID[i].format,
                                 active_version=format_name(VERSION, i, active[i].version) if i in active else "",
                                 code_count=active[i].code_count if i in active else 0) for i in page]
        return pb.ListCodeSystemsResponse(code_systems=systems,
                                          next_page_token=encode_token(page[-1]) if len(ids) > size else "")

    async def ListCodeVersions(self, request: pb.ListCodeVersionsRequest,
                               context: Any) -> pb.ListCodeVersionsResponse:
        (system_id,) = parse_name(request.parent, SYSTEM, "parent")
        _system(system_id)
        size = page_size(request.page_size, 50, 100)
        start = _offset(request.page_token)
        async with self._new_uow() as uow:
            versions = await uow.codes.versions(system_id)
        page = versions[start:start + size]
        return pb.ListCodeVersionsResponse(code_versions=[pb.CodeVersion(
            name=format_name(VERSION, v.system_id, v.version), source=v.source, code_count=v.code_count,
            active=v.active, effective=common_pb2.DateRange(start_date=date_to_proto(v.effective_start),
                                                            end_date=date_to_proto(v.effective_end)))
            for v in page], next_page_token=encode_token(str(start + size)) if start + size < len(versions) else "")

    async def GetCode(self, request: pb.GetCodeRequest, context: Any) -> pb.Code:
        system_id, version, code = parse_name(request.name, CODE)
        _system(system_id)
        async with self._new_uow() as uow:
            version_id, label = await _version(uow, system_id, version)
            row = await uow.codes.get_code(version_id, code)
        if row is None:
            raise NotFound(f"{code} is not a code of {system_id} {label}", reason="CODE_NOT_FOUND",
                           metadata={"name": request.name, "version": label})
        return _code(system_id, label, row)

    async def ListCodes(self, request: pb.ListCodesRequest, context: Any) -> pb.ListCodesResponse:
        system_id, version = parse_name(request.parent, VERSION, "parent")
        _system(system_id)
        size = page_size(request.page_size, 100, 1000)
        after = decode_token(request.page_token)
        async with self._new_uow() as uow:
            version_id, label = await _version(uow, system_id, version)
            rows = await uow.codes.list_codes(version_id, request.code_prefix, request.name_contains, after, size + 1)
        token = encode_token(rows[size - 1].code) if len(rows) > size else ""
        return pb.ListCodesResponse(codes=[_code(system_id, label, r) for r in rows[:size]], next_page_token=token)

    async def ValidateCodes(self, request: pb.ValidateCodesRequest, context: Any) -> pb.ValidateCodesResponse:
        check_batch_size("codes", len(request.codes), MAX_BATCH)
        results = validate((CodeRef(r.code_system, r.code) for r in request.codes), self._index.current)
        return pb.ValidateCodesResponse(results=[
            pb.CodeValidation(code=v.code, code_system_id=v.system_id, status=_STATUS[v.status], reason=v.reason,
                              version=v.version) for v in results])

    async def MapCodes(self, request: pb.MapCodesRequest, context: Any) -> pb.MapCodesResponse:
        if request.code_system not in MAP_OF:
            raise InvalidArgument.field("code_system", f"must be one of {', '.join(MAP_OF)}")
        check_batch_size("codes", len(request.codes), MAX_BATCH)
        pairs = map_codes(request.code_system, request.codes, self._index.current)
        return pb.MapCodesResponse(mappings=[pb.CodeMapping(source_code=s, target_code=t, mapped=bool(t))
                                             for s, t in pairs])


def add_to_server(servicer: CodingServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_CodingServiceServicer_to_server(servicer, server)


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CodingService"].full_name


def _system(system_id: str) -> str:
    if system_id not in BY_ID:
        raise NotFound(f"unknown code system {system_id!r}; known: {', '.join(sorted(BY_ID))}",
                       reason="CODE_SYSTEM_NOT_FOUND", metadata={"code_system": system_id})
    return system_id


async def _version(uow: CodingUnitOfWork, system_id: str, version: str) -> tuple[int, str]:
    """The stored version of a name's version segment; "-" is the version in force."""
    found = await uow.codes.version_id(system_id, None if version == ACTIVE else version)
    if found is None:
        what = f"version {version!r}" if version != ACTIVE else "a version in force"
        raise NotFound(f"{system_id} has no {what}", reason="CODE_VERSION_NOT_FOUND",
                       metadata={"code_system": system_id, "version": version})
    return found


def _offset(token: str) -> int:
    text = decode_token(token)
    if text and not text.isdigit():
        raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return int(text or 0)


def _code(system_id: str, version: str, row: Any) -> pb.Code:
    return pb.Code(name=format_name(CODE, system_id, version, row.code), code=row.code, display_name=row.name,
                   attributes={k: str(v) for k, v in (row.attributes or {}).items()},
                   status=pb.CODE_STATUS_RETIRED if row.retired else pb.CODE_STATUS_ACTIVE)

