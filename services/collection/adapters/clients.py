"""Clients of the coding and grouping services, as collection uses them: batched, cached, typed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import grpc
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc

from libs.common.errors import Unavailable
from libs.common.grpc.client import CallerAuth, open_channel
from libs.common.paging import every_page
from libs.common.remembered import Remembered

from ..domain.case_facts import CaseFacts, grouping_dept
from ..domain.model import CodeVerdict, GroupRow, scheme_kind

BATCH = 10_000
CODING = "medpay.coding.v1.CodingService"
GROUPING = "medpay.grouping.v1.GroupingService"


class CodingClient:
    """ValidateCodes with a cache: a prefecture's lists repeat the same few thousand codes all day.

    The cache is dropped every ``ttl_seconds`` so a new code version reaches quality control soon.
    """

    def __init__(self, address: str, ttl_seconds: float = 60.0, auth: CallerAuth | None = None) -> None:
        self._channel = open_channel(address, idempotent_methods=[(CODING, "ValidateCodes"), (CODING, "GetCode")],
                                     auth=auth)
        self._stub = coding_grpc.CodingServiceStub(self._channel)
        self._cache: dict[tuple[str, str], CodeVerdict] = {}
        self._levels: dict[str, int] = {}
        self._ttl = ttl_seconds
        self._born = time.monotonic()

    async def verdicts(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], CodeVerdict]:
        if time.monotonic() - self._born > self._ttl or len(self._cache) > 500_000:
            self._cache, self._born = {}, time.monotonic()
        wanted = set(pairs)
        cache = self._cache  # this call's view: a concurrent call may replace self._cache while we await
        found = {p: cache[p] for p in wanted if p in cache}
        missing = [p for p in wanted if p not in found]
        for start in range(0, len(missing), BATCH):
            chunk = missing[start:start + BATCH]
            request = coding_pb.ValidateCodesRequest(
                codes=[coding_pb.CodeReference(code_system=s, code=c) for s, c in chunk])
            try:
                reply = await self._stub.ValidateCodes(request, timeout=30)
            except grpc.aio.AioRpcError as failed:
                raise Unavailable(f"coding service: {failed.code().name} {failed.details()}",
                                  reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "coding"}) from None
            for pair, result in zip(chunk, reply.results, strict=True):
                found[pair] = self._cache[pair] = CodeVerdict(
                    coding_pb.ValidationStatus.Name(result.status).removeprefix("VALIDATION_STATUS_"), result.reason)
        return found

    async def hospital_levels(self, institutions: Iterable[str]) -> dict[str, int]:
        """Each institution's level (1-3) from the institution registry; 0 when it is not registered or has no
        level. Cached like the verdicts (an institution's level rarely changes)."""
        if time.monotonic() - self._born > self._ttl:
            self._cache, self._levels, self._born = {}, {}, time.monotonic()
        levels = self._levels  # this call's view (see verdicts)
        found = {code: levels[code] for code in institutions if code in levels}
        for code in set(institutions) - found.keys():
            try:
                reply = await self._stub.GetCode(coding_pb.GetCodeRequest(
                    name=f"codeSystems/institution/versions/-/codes/{code}"), timeout=30)
            except grpc.aio.AioRpcError as failed:
                if failed.code() is not grpc.StatusCode.NOT_FOUND:
                    raise Unavailable(f"coding service: {failed.code().name} {failed.details()}",
                                      reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "coding"}) from None
                found[code] = self._levels[code] = 0
                continue
            level = reply.attributes.get("level", "")
            found[code] = self._levels[code] = int(level) if level in ("1", "2", "3") else 0
        return {code: found[code] for code in institutions}

    async def close(self) -> None:
        await self._channel.close(None)


class GroupingClient:
    def __init__(self, address: str, auth: CallerAuth | None = None) -> None:
        self._channel = open_channel(address, idempotent_methods=[(GROUPING, "GroupCases"),
                                                                   (GROUPING, "ListSchemes")], auth=auth)
        self._stub = grouping_grpc.GroupingServiceStub(self._channel)

    async def schemes(self) -> list[str]:
        """The ids of the schemes the grouping service has loaded (every page)."""
        def list_schemes(request: grouping_pb.ListSchemesRequest, **options: Any) -> Any:
            return self._call(self._stub.ListSchemes(request, **options))

        return [scheme_id_of(s.name) async for s in every_page(list_schemes, grouping_pb.ListSchemesRequest(
            page_size=100), "schemes", timeout=30)]

    async def group(self, scheme_id: str, cases: Sequence[CaseFacts]) -> list[GroupRow]:
        out: list[GroupRow] = []
        for start in range(0, len(cases), BATCH):
            request = grouping_pb.GroupCasesRequest(scheme=scheme_name(scheme_id))
            add = request.cases.add  # built in place: a case built apart was copied into the request (twice the cost)
            for c in cases[start:start + BATCH]:
                grouping_case(add, c)
            reply: grouping_pb.GroupCasesResponse = await self._call(self._stub.GroupCases(request, timeout=60))
            out += map(shared_group_row, reply.results)
        return out

    async def _call(self, call: Any) -> Any:
        try:
            return await call
        except grpc.aio.AioRpcError as failed:
            raise Unavailable(f"grouping service: {failed.code().name} {failed.details()}",
                              reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "grouping"}) from None

    def stream_stub(self) -> grouping_grpc.GroupingServiceStub:
        return self._stub

    async def close(self) -> None:
        await self._channel.close(None)


def to_grouping_case(f: CaseFacts, case_id: str = "") -> grouping_pb.GroupingCase:
    """The grouping input of a case; an unknown age, weight or stay stays unset (None is "no value" to the
    message's constructor, one call instead of one per field)."""
    return grouping_case(grouping_pb.GroupingCase, f, case_id)


def grouping_case(make: Callable[..., grouping_pb.GroupingCase], f: CaseFacts,
                  case_id: str = "") -> grouping_pb.GroupingCase:
    """``to_grouping_case`` made by ``make``: the message's constructor, or the ``add`` of a request's cases."""
    return make(
        case_id=case_id, sex=grouping_pb.Sex.ValueType(f.sex or 0),
        discharge_type=grouping_pb.DischargeType.ValueType(int(f.discharge_type) if f.discharge_type in _DSCG_WAYS
                                                           else 0),
        dept=_depts[f.dept], diagnoses=f.diagnoses, procedures=f.procedures,
        age_years=f.age_years, age_days=f.age_days, birth_weight_g=f.birth_weight_g, los_days=f.los_days)


_depts: Remembered[str, str] = Remembered(grouping_dept, most=10_000)
"""``grouping_dept`` by department code (a prefecture's departments are a few hundred codes)."""


def to_group_row(r: grouping_pb.GroupingResult) -> GroupRow:
    """A result as stored: the group code is the DRG, or for a DIP scheme the DIP group ("K35.3|47.0100")."""
    scheme_id = scheme_id_of(r.scheme)
    code = r.dip.group if r.HasField("dip") else r.drg
    return GroupRow(scheme_id, r.scheme_version, code, r.adrg, r.mdc,
                    grouping_pb.GroupStatus.Name(r.status).removeprefix("GROUP_STATUS_"), scheme_kind(scheme_id))


_rows_of: dict[bytes, GroupRow] = {}
_MOST_ROWS = 10_000


def shared_group_row(r: grouping_pb.GroupingResult) -> GroupRow:
    """``to_group_row`` of a result, remembered by the result's serialized form (the same bytes are the same
    fields, hence the same row): a chunk's lists share a few hundred groups, and reading a result's fields
    (its status's name, its scheme's kind) into a row cost five times serializing it. The rows of one group are
    one object. At most ``_MOST_ROWS`` remembered."""
    key = r.SerializeToString()
    row = _rows_of.get(key)
    if row is None:
        if len(_rows_of) >= _MOST_ROWS:
            _rows_of.clear()
        row = _rows_of[key] = to_group_row(r)
    return row


def scheme_name(scheme_id: str) -> str:
    """The grouping service's resource name of a scheme: "chs-drg-1.1" -> "schemes/chs-drg-1.1"."""
    return f"schemes/{scheme_id}"


def scheme_id_of(name: str) -> str:
    return name.removeprefix("schemes/")


_DSCG_WAYS = frozenset("123456789")
"""National dscg_way codes: the grouping DischargeType enum's numbers are these codes."""
