"""gRPC servicer of medpay.collection.v1: proto <-> service layer."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import orjson
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb

from libs.common.auth.context import check_access, principal_var, scope_institution, scope_region
from libs.common.auth.roles import Role
from libs.common.dates import Period, date_from_proto, date_to_proto
from libs.common.errors import FieldViolation, InvalidArgument, MedpayError, check_batch_size
from libs.common.money import Money
from libs.common.paging import decode_token, encode_token, page_size

from ..domain.envelope import INSTITUTION, content_digest, error_message, read_json
from ..domain.feed import EventKind, FeedCase
from ..domain.model import Finding, GroupRow, ListStatus, Severity, StoredList, region_of
from ..service_layer.feed import CaseFeed
from ..service_layer.pending import pending
from ..service_layer.queries import Lists
from ..service_layer.records import NotJson, RecordIntake, RecordOutcome
from ..service_layer.upload_statistics import upload_statistics
from ..service_layer.uploads import Accepted, Outcome, UploadCommand, Uploads

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CollectionService"].full_name
MAX_BATCH = 10_000
BATCH_WINDOW = 32
MAX_REQUEST_ID = 128
ERROR_FINDINGS = 10
"""Findings spelled out in the error of a rejected UploadSettlementList (the trailers must stay small)."""
REQUEST_ID = re.compile(rf"[^\x00-\x20\x7f-\x9f]{{1,{MAX_REQUEST_ID}}}")
"""Lists of a batch stream processed at once."""
_SEVERITY = {Severity.ERROR: pb.SEVERITY_ERROR, Severity.WARNING: pb.SEVERITY_WARNING}
_STATUS = {s.value: pb.ListStatus.Value(f"LIST_STATUS_{s.value}") for s in ListStatus}
_OUTCOME = {o: pb.RecordOutcome.Value(f"RECORD_OUTCOME_{o.value}") for o in RecordOutcome}
_PENDING_KIND = {"LIST": pb.PENDING_KIND_LIST, "RECORD": pb.PENDING_KIND_RECORD}
MAX_RECORDS = 10_000
LIST_COLLECTION = "settlementLists"
_EVENT_TYPE = {kind: pb.CaseEventType.Value(f"CASE_EVENT_TYPE_{kind.value}") for kind in EventKind}
_SEX = {1: pb.SEX_MALE, 2: pb.SEX_FEMALE}
_GROUP_KIND = {"DRG": pb.GROUP_KIND_DRG, "DIP": pb.GROUP_KIND_DIP}
_GROUP_STATUS = {name.removeprefix("GROUP_STATUS_"): value for name, value in grouping_pb.GroupStatus.items()}


class ListTooLarge(MedpayError):
    code = "RESOURCE_EXHAUSTED"


DEFAULT_MAX_LIST_BYTES = 2 * 1024 * 1024


class CollectionServicer(pb_grpc.CollectionServiceServicer):
    def __init__(self, uploads: Uploads, lists: Lists, feed: CaseFeed, records: RecordIntake, *,
                 max_list_bytes: int = DEFAULT_MAX_LIST_BYTES) -> None:
        self._uploads = uploads
        self._lists = lists
        self._feed = feed
        self._records = records
        self._max_list_bytes = max_list_bytes

    async def UploadSettlementRecords(self, request: pb.UploadSettlementRecordsRequest,
                                      context: Any) -> pb.UploadSettlementRecordsResponse:
        check_batch_size("records", len(request.records), MAX_RECORDS)
        lines = [_record_line(raw) for raw in request.records]
        results = await self._records.upload(lines, request_id=request.request_id, scope=_record_scope(lines))
        return pb.UploadSettlementRecordsResponse(
            results=[pb.SettlementRecordResult(index=r.index, outcome=_OUTCOME[r.outcome],
                                               fixmedins_code=r.fixmedins_code, setl_id=r.setl_id,
                                               revision=r.revision, error=r.error) for r in results],
            stored_count=sum(r.outcome in _STORED for r in results),
            unchanged_count=sum(r.outcome is RecordOutcome.UNCHANGED for r in results),
            refused_count=sum(r.outcome is RecordOutcome.REFUSED for r in results))

    async def StreamSettlementRecords(self, request_iterator: AsyncIterator[pb.StreamSettlementRecordsRequest],
                                      context: Any) -> AsyncIterator[pb.StreamSettlementRecordsResponse]:
        async for request in request_iterator:
            yield pb.StreamSettlementRecordsResponse(results=await self.UploadSettlementRecords(request.batch,
                                                                                                context))

    async def ListPendingItems(self, request: pb.ListPendingItemsRequest,
                               context: Any) -> pb.ListPendingItemsResponse:
        size = page_size(request.page_size, 100, 1000)
        kinds = [pb.PendingKind.Name(k).removeprefix("PENDING_KIND_") for k in request.kinds]
        if "UNSPECIFIED" in kinds:
            raise InvalidArgument.field("kinds", "PENDING_KIND_UNSPECIFIED is not a kind")
        page = await pending(self._lists.new_uow, region=scope_region(request.region),
                             fixmedins_code=scope_institution(request.fixmedins_code),
                             kinds=kinds, cursor=decode_token(request.page_token), limit=size)
        now = datetime.now(UTC)
        return pb.ListPendingItemsResponse(
            pending_items=[pb.PendingItem(kind=_PENDING_KIND[i.kind], fixmedins_code=i.fixmedins_code,
                                          setl_id=i.setl_id, psn_no=i.psn_no, setl_list_id=i.setl_list_id,
                                          waiting_since=_timestamp(i.since), waited=_duration(now - i.since))
                           for i in page.items],
            next_page_token=encode_token(page.cursor), lists_waiting=page.lists_waiting,
            records_waiting=page.records_waiting,
            oldest_list_wait=_duration(now - page.oldest_list_since) if page.oldest_list_since else None,
            oldest_record_wait=_duration(now - page.oldest_record_since) if page.oldest_record_since else None)

    async def ListUploadStatistics(self, request: pb.ListUploadStatisticsRequest,
                                   context: Any) -> pb.ListUploadStatisticsResponse:
        size = page_size(request.page_size, 100, 1000)
        if not request.region:
            raise InvalidArgument.field("region", "is required")
        region, code = scope_region(request.region), request.fixmedins_code
        if code and region_of(code) != region:
            raise InvalidArgument.field("fixmedins_code", f"{code} is not an institution of region {region}")
        page = await upload_statistics(
            self._lists.new_uow, region=region, fixmedins_code=code,
            start=date_from_proto(request.upload_dates.start_date, "upload_dates.start_date"),
            end=date_from_proto(request.upload_dates.end_date, "upload_dates.end_date"),
            cursor=decode_token(request.page_token), limit=size)
        return pb.ListUploadStatisticsResponse(
            upload_statistics=[pb.UploadStatistics(fixmedins_code=s.fixmedins_code, uploads_received=s.received,
                                                   uploads_passed=s.passed, uploads_rejected=s.rejected,
                                                   qc_pass_rate=f"{s.pass_rate:f}") for s in page.items],
            next_page_token=encode_token(page.cursor))

    async def UploadSettlementList(self, request: pb.UploadSettlementListRequest,
                                   context: Any) -> pb.UploadSettlementListResponse:
        stored = await self._upload(request.upload)
        if not stored["accepted"]:
            raise _rejection([Finding.from_json(f) for f in stored["findings"]])
        return _accepted(stored)

    async def BatchUploadSettlementLists(self, request_iterator: AsyncIterator[pb.BatchUploadSettlementListsRequest],
                                         context: Any) -> pb.BatchUploadSettlementListsResponse:
        results: list[pb.BatchUploadResult] = []
        window: list[pb.SettlementListUpload] = []
        async for request in request_iterator:
            if len(results) + len(window) >= MAX_BATCH:
                raise InvalidArgument(f"a batch holds at most {MAX_BATCH:,} lists", reason="BATCH_TOO_LARGE",
                                      metadata={"limit": str(MAX_BATCH)})
            window.append(request.upload)
            if len(window) == BATCH_WINDOW:
                results += await self._upload_window(window, len(results))
                window = []
        results += await self._upload_window(window, len(results))
        accepted = sum(1 for r in results if r.HasField("accepted"))
        return pb.BatchUploadSettlementListsResponse(results=results, accepted_count=accepted,
                                                     rejected_count=len(results) - accepted)

    async def _upload_window(self, uploads: list[pb.SettlementListUpload], first: int) -> list[pb.BatchUploadResult]:
        """Upload a window of lists concurrently (their QC, grouping and writes overlap); results in order."""
        outcomes = await asyncio.gather(*(self._upload(u) for u in uploads), return_exceptions=True)
        results = []
        for index, outcome in enumerate(outcomes, start=first):
            if isinstance(outcome, MedpayError):
                # Each list is stored in its own transaction after its checks: a list whose coding or grouping
                # call failed (UPSTREAM_UNAVAILABLE) is answered so and nothing of it is stored; the others stand.
                results.append(pb.BatchUploadResult(index=index, error=f"{outcome.reason}: {outcome.message}"))
            elif isinstance(outcome, BaseException):
                raise outcome
            elif outcome["accepted"]:
                results.append(pb.BatchUploadResult(index=index, accepted=_accepted(outcome)))
            else:
                results.append(pb.BatchUploadResult(index=index, rejections=[
                    finding_proto(Finding.from_json(f)) for f in outcome["findings"]]))
        return results

    async def GetSettlementList(self, request: pb.GetSettlementListRequest, context: Any) -> pb.SettlementList:
        stored = await self._lists.get(_list_id(request.name), request.fixmedins_code, request.setl_id,
                                       request.revision, visible=visible)
        return _list_proto(stored, full=True)

    async def ListSettlementLists(self, request: pb.ListSettlementListsRequest,
                                  context: Any) -> pb.ListSettlementListsResponse:
        period = ""
        if request.HasField("settlement_month"):
            period = str(Period.from_proto(request.settlement_month, "settlement_month", allow_year=False))
        size = page_size(request.page_size, 100, 1000)
        before = _list_cursor(request.page_token)
        status = "" if request.status == pb.LIST_STATUS_UNSPECIFIED else pb.ListStatus.Name(
            request.status).removeprefix("LIST_STATUS_")
        rows = await self._lists.page(fixmedins_code=scope_institution(request.fixmedins_code),
                                      region=scope_region(request.region),
                                      period=period, status=status, before=before, limit=size + 1)
        token = encode_token(str(rows[size - 1].list_id)) if len(rows) > size else ""
        return pb.ListSettlementListsResponse(settlement_lists=[_list_proto(r, full=False) for r in rows[:size]],
                                              next_page_token=token)

    async def RevokeSettlementList(self, request: pb.RevokeSettlementListRequest, context: Any) -> pb.SettlementList:
        stored = await self._lists.set_status(ListStatus.REVOKED, request.reason or "revoked",
                                              setl_list_id=_list_id(request.name),
                                              fixmedins_code=request.fixmedins_code, setl_id=request.setl_id,
                                              visible=visible)
        return _list_proto(stored, full=False)

    async def RestoreSettlementList(self, request: pb.RestoreSettlementListRequest,
                                    context: Any) -> pb.SettlementList:
        stored = await self._lists.set_status(ListStatus.ACTIVE, request.reason or "restored",
                                              setl_list_id=_list_id(request.name),
                                              fixmedins_code=request.fixmedins_code, setl_id=request.setl_id,
                                              visible=visible)
        return _list_proto(stored, full=False)

    async def StreamCaseEvents(self, request: pb.StreamCaseEventsRequest,
                               context: Any) -> AsyncIterator[pb.StreamCaseEventsResponse]:
        months = _months(request.settlement_periods, "settlement_periods")
        region = scope_region(request.region)
        async for page in self._feed.events(region, request.after_sequence, months, follow=request.follow):
            yield pb.StreamCaseEventsResponse(
                events=[pb.CaseEvent(sequence=e.sequence, type=_EVENT_TYPE[e.kind], event_time=_timestamp(e.event_time),
                                     case=case_proto(e.case)) for e in page.events],
                resume_after_sequence=page.resume_after, head_sequence=page.head)

    async def StreamCases(self, request: pb.StreamCasesRequest, context: Any) -> AsyncIterator[pb.StreamCasesResponse]:
        months = _months(request.settlement_periods, "settlement_periods")
        async for at, cases in self._feed.cases(scope_region(request.region), months, request.as_of_sequence):
            yield pb.StreamCasesResponse(cases=[case_proto(c) for c in cases], as_of_sequence=at)

    async def GetCaseFeed(self, request: pb.GetCaseFeedRequest, context: Any) -> pb.GetCaseFeedResponse:
        return pb.GetCaseFeedResponse(head_sequence=await self._feed.publish())

    async def _upload(self, upload: pb.SettlementListUpload) -> Any:
        if len(upload.input_json) > self._max_list_bytes:  # refused unread, as the HTTP door refuses the body
            raise ListTooLarge(f"upload.input_json: {len(upload.input_json):,} bytes; a settlement list takes at "
                               f"most {self._max_list_bytes:,}", reason="LIST_TOO_LARGE",
                               metadata={"field": "upload.input_json", "limit": str(self._max_list_bytes)})
        body, problems = read_json(upload.input_json)
        if problems:
            raise InvalidArgument.field("upload.input_json", problems[0].message_en) from None
        if not INSTITUTION.fullmatch(upload.fixmedins_code):
            raise InvalidArgument.field("upload.fixmedins_code", "must be H + 11 digits")
        scope_institution(upload.fixmedins_code)  # a hospital uploads its own lists only
        if upload.request_id and not REQUEST_ID.fullmatch(upload.request_id):
            raise InvalidArgument.field("upload.request_id",
                                        f"at most {MAX_REQUEST_ID} characters, no blanks or control characters")
        # Idempotency keys are the institution's: one hospital's request_id never meets another's.
        key = f"request:{upload.fixmedins_code}:{upload.request_id}" if upload.request_id else None
        cmd = UploadCommand(key, content_digest("4101A", upload.fixmedins_code, body), upload.fixmedins_code,
                            upload.fixmedins_name, body)
        return (await self._uploads.upload(cmd, _outcome_dict)).response


def visible(stored: StoredList) -> bool:
    """Whether the caller may see (and change) a stored list: a hospital its own, a prefecture its region's."""
    try:
        check_access(stored.fixmedins_code, stored.region)
    except MedpayError:
        return False
    return True


def _rejection(findings: list[Finding]) -> InvalidArgument:
    """The error of a rejected list, small enough for gRPC trailers (8 KiB): the first ``ERROR_FINDINGS``
    findings in the message and the BadRequest, the count of the rest, every rule code in the ErrorInfo."""
    shown = findings[:ERROR_FINDINGS]
    rest = len(findings) - len(shown)
    message = error_message(shown)[:2000] + (f"; {rest} more findings not listed" if rest else "")
    return InvalidArgument(message, reason="INVALID_LIST",
                           metadata={"findings": ",".join(sorted({f.code for f in findings})),
                                     "finding_count": str(len(findings))},
                           violations=tuple(FieldViolation(f.field[:100], f"{f.code}: {f.message_en}"[:200])
                                            for f in shown))


def add_to_server(servicer: CollectionServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_CollectionServiceServicer_to_server(servicer, server)


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Accepted):
        return {"accepted": True, "setl_list_id": outcome.setl_list_id, "revision": outcome.revision,
                "findings": [f.to_json() for f in outcome.warnings],
                "group": dataclasses.asdict(outcome.group) if outcome.group else None,
                "status": outcome.status.value}
    return {"accepted": False, "findings": [f.to_json() for f in outcome.findings]}


def _accepted(stored: dict[str, Any]) -> pb.UploadSettlementListResponse:
    group = stored.get("group")
    return pb.UploadSettlementListResponse(
        name=f"{LIST_COLLECTION}/{stored['setl_list_id']}", setl_list_id=stored["setl_list_id"],
        revision=stored["revision"], findings=[finding_proto(Finding.from_json(f)) for f in stored["findings"]],
        case_group=_group_proto(GroupRow(**group)) if group else None,
        status=_STATUS[stored.get("status", "ACTIVE")])


def finding_proto(f: Finding) -> pb.Finding:
    return pb.Finding(code=f.code, severity=_SEVERITY[f.severity], field=f.field, message_zh=f.message_zh,
                      message_en=f.message_en)


def _group_proto(g: GroupRow) -> pb.CaseGroup:
    return pb.CaseGroup(scheme_id=g.scheme_id, scheme_version=g.scheme_version,
                        kind=_GROUP_KIND.get(g.kind, pb.GROUP_KIND_UNSPECIFIED), code=g.drg, adrg=g.adrg, mdc=g.mdc,
                        status=_GROUP_STATUS.get(g.status, grouping_pb.GROUP_STATUS_UNSPECIFIED))


def _timestamp(value: Any) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _list_proto(s: StoredList, full: bool) -> pb.SettlementList:
    """A stored list on the wire; ``full`` adds its input, findings and history."""
    m = pb.SettlementList(
        name=f"{LIST_COLLECTION}/{s.setl_list_id}", setl_list_id=s.setl_list_id, fixmedins_code=s.fixmedins_code,
        setl_id=s.setl_id, psn_no=s.psn_no, revision=s.revision, revision_count=s.revision_count,
        status=_STATUS[s.status], region=s.region, settlement_month=Period.parse(s.period).to_proto(),
        total_cost=Money(s.total_fen).to_proto(), case_group=_group_proto(s.group) if s.group else None,
        receive_time=_timestamp(s.received_time))
    if full:
        m.input_json = orjson.dumps(s.body)
        m.findings.extend(finding_proto(f) for f in s.findings)
        m.history.extend(pb.StatusChange(status=_STATUS[st], change_time=_timestamp(t), reason=r, revision=rev)
                         for st, t, r, rev in s.history)
    return m


def _list_id(name: str) -> str:
    """The list id of a resource name "settlementLists/{setl_list_id}" ("" for no name)."""
    if not name:
        return ""
    collection, _, list_id = name.partition("/")
    if collection != LIST_COLLECTION or not list_id or "/" in list_id:
        raise InvalidArgument.field("name", f"must be {LIST_COLLECTION}/{{setl_list_id}}, got {name!r}")
    return list_id


def case_proto(c: FeedCase) -> pb.Case:
    """A feed case on the wire (money in fen, dates as google.type.Date, enums for statuses)."""
    m = pb.Case(
        setl_list_id=c.setl_list_id, revision=c.revision, status=_STATUS[c.status], fixmedins_code=c.fixmedins_code,
        hospital_level=c.hospital_level, region=c.region, settlement_month=Period.parse(c.period).to_proto(),
        setl_id=c.setl_id, psn_no=c.psn_no, mdtrt_id=c.mdtrt_id, admission_date=date_to_proto(c.admission_date),
        discharge_date=date_to_proto(c.discharge_date),
        los_days=c.los_days or 0, discharge_way=c.discharge_way, department=c.department,
        attending_doctor=c.attending_doctor, sex=_SEX.get(c.sex or 0, pb.SEX_UNSPECIFIED),
        age_years=c.age_years or 0, diagnosis_codes=c.diagnoses, procedure_codes=c.procedures,
        groups=[_group_proto(g) for g in c.groups],
        total_cost=Money(c.total_fen).to_proto(), fund_paid=Money(c.fund_fen).to_proto(),
        personal_paid=Money(c.personal_fen).to_proto(),
        insurance_type=c.insurance_type,
        money_source=pb.MoneySource.Value(f"MONEY_SOURCE_{c.money_source.value}"))
    if c.age_days is not None:
        m.age_days = c.age_days
    if c.birth_weight_g is not None:
        m.birth_weight_g = c.birth_weight_g
    return m


def _months(periods: Any, field: str) -> list[str]:
    """Settlement periods from the wire (months, or years standing for their twelve months) as "yyyy-MM"."""
    return [str(month) for i, period in enumerate(periods)
            for month in Period.from_proto(period, f"{field}[{i}]").months()]


_STORED = (RecordOutcome.CREATED, RecordOutcome.REVISED, RecordOutcome.REVERSED)


def _record_scope(lines: list[Any]) -> str:
    """A prefecture's core system sends the records of its own region's institutions only (PERMISSION_DENIED
    TENANT_MISMATCH for a batch naming another's, before anything is stored), and its request ids are its own;
    the province and the services send any region's ("" scope)."""
    principal = principal_var.get()
    if principal is None or principal.role is not Role.PREFECTURE:
        return ""
    for line in lines:
        code = line.get("fixmedins_code") if isinstance(line, dict) else None
        if isinstance(code, str) and code.strip():
            check_access(code.strip(), region_of(code.strip()), f"settlement records of {code.strip()}")
    return principal.subject


def _record_line(raw: bytes) -> Any:
    """A record line's JSON; what is not JSON is kept in its place, to be refused with the reason."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as bad:
        return NotJson(str(bad))


def _duration(delta: timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(max(delta, timedelta(0)))
    return d


def _list_cursor(token: str) -> int:
    """The list id a ListSettlementLists page continues before; a token this service did not write is
    INVALID_ARGUMENT (INVALID_PAGE_TOKEN), whatever it holds."""
    cursor = decode_token(token)
    if cursor and not (cursor.isdigit() and len(cursor) < 19):
        raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return int(cursor or 0)
