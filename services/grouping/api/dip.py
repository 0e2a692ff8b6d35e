"""The DIP side of the grouping servicer: proto <-> domain for DIP results, catalogues and builds.

The servicer (``servicer.py``) delegates here for DIP schemes and the DIP methods; this module holds no state
of its own beyond the service-layer objects it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2 as pb

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition, InvalidArgument, NotFound
from libs.common.money import Money
from libs.common.names import format_name, parse_name
from libs.common.paging import decode_token, encode_token, page_size
from libs.common.runs import Run

from ..domain.dip.case import CaseType, DipCase
from ..domain.dip.catalogue import CatalogueGroup, GroupKind
from ..domain.dip.matching import DipKind, DipResult
from ..domain.dip.scheme import CatalogueVersion, is_dip_scheme
from ..domain.errors import UnknownSchemeError
from ..service_layer.dip_catalogues import DipCatalogues, VersionedGrouper
from ..service_layer.dip_service import DipBuilds, FeedSource, UploadSource
from .mapping import SCHEME, scheme_name

CATALOGUE = "schemes/{scheme}/catalogues/{catalogue}"
LATEST = "-"
FAMILY = "DIP"
_MATCH = {DipKind.CORE: dip_pb2.DIP_MATCH_CORE, DipKind.CORE_PARTIAL: dip_pb2.DIP_MATCH_CORE_PARTIAL,
          DipKind.COMPREHENSIVE: dip_pb2.DIP_MATCH_COMPREHENSIVE, DipKind.UNGROUPABLE: dip_pb2.DIP_MATCH_UNGROUPABLE}
_SOURCE = {"upload": dip_pb2.DIP_CATALOGUE_SOURCE_UPLOAD, "feed": dip_pb2.DIP_CATALOGUE_SOURCE_CASE_FEED,
           "import": dip_pb2.DIP_CATALOGUE_SOURCE_IMPORT, "reference": dip_pb2.DIP_CATALOGUE_SOURCE_REFERENCE}
_KIND = {GroupKind.CORE: dip_pb2.DIP_GROUP_KIND_CORE, GroupKind.COMPREHENSIVE: dip_pb2.DIP_GROUP_KIND_COMPREHENSIVE}
_TYPE = {CaseType.SURGERY: dip_pb2.DIP_CASE_TYPE_SURGERY, CaseType.THERAPEUTIC: dip_pb2.DIP_CASE_TYPE_THERAPEUTIC,
         CaseType.DIAGNOSTIC: dip_pb2.DIP_CASE_TYPE_DIAGNOSTIC,
         CaseType.CONSERVATIVE: dip_pb2.DIP_CASE_TYPE_CONSERVATIVE}


def split_revision(scheme_id: str, field: str) -> tuple[str, int | None]:
    """``"dip-330700-2026@3"`` -> (``"dip-330700-2026"``, 3): a pinned version (AIP-162); none -> ``None``."""
    base, at, revision = scheme_id.partition("@")
    if not at:
        return scheme_id, None
    if not is_dip_scheme(base) or not revision.isascii() or not revision.isdigit():
        raise InvalidArgument.field(field, f"{scheme_id!r}: only a DIP scheme takes a version, as @<number>")
    return base, int(revision)


class DipApi:
    def __init__(self, catalogues: DipCatalogues | None, builds: DipBuilds | None) -> None:
        self.catalogues = catalogues
        self.builds = builds

    # -- grouping -----------------------------------------------------------------------------------------------
    def grouper(self, scheme_id: str, version: int | None, field: str) -> VersionedGrouper:
        if self.catalogues is None:
            raise NotFound(f"DIP is not available on this server (no surgery list): {scheme_id}",
                           reason="SCHEME_NOT_FOUND", metadata={field: scheme_name(scheme_id)})
        try:
            return self.catalogues.current.grouper(scheme_id, version)
        except UnknownSchemeError as unknown:
            raise NotFound(str(unknown), reason="SCHEME_NOT_FOUND",
                           metadata={field: scheme_name(scheme_id)}) from None

    def group(self, scheme_id: str, version: int | None, cases: Sequence[pb.GroupingCase],
              explain: bool) -> list[pb.GroupingResult]:
        grouper = self.grouper(scheme_id, version, "scheme")
        name = scheme_name(scheme_id)
        out = []
        for m in cases:
            case = DipCase(tuple(m.diagnoses), tuple(m.procedures))
            r = grouper.group(case)
            out.append(result_to_proto(r, m.case_id, name, grouper.explain(case) if explain else ()))
        return out

    def scheme_ids(self) -> list[str]:
        return sorted(self.catalogues.current.versions) if self.catalogues is not None else []

    def scheme(self, scheme_id: str) -> pb.Scheme:
        latest = self.grouper(scheme_id, None, "name")
        return pb.Scheme(name=scheme_name(scheme_id), family=FAMILY, version=latest.version,
                         dip_catalogue=catalogue_to_proto(latest.published))

    # -- catalogues ---------------------------------------------------------------------------------------------
    def get_catalogue(self, request: dip_pb2.GetDipCatalogueRequest) -> dip_pb2.DipCatalogue:
        return catalogue_to_proto(self._version(request.name, "name").published)

    def list_catalogues(self, request: dip_pb2.ListDipCataloguesRequest) -> dip_pb2.ListDipCataloguesResponse:
        (scheme_id,) = parse_name(request.parent, SCHEME, "parent")
        self._require_dip(scheme_id, "parent")
        size = page_size(request.page_size, 50, 100)
        after = decode_token(request.page_token)  # the request's own errors before the scheme's existence
        if after and not (after.isdigit() and len(after) < 10):  # a token of another List (groups page by id)
            raise InvalidArgument.field("page_token", "not a token of ListDipCatalogues", "INVALID_PAGE_TOKEN")
        self.grouper(scheme_id, None, "parent")  # NOT_FOUND for a scheme this server does not serve
        line = self._line(scheme_id)
        start = int(after) + 1 if after else -1
        rest = [g for g in line if g.version_number >= start]
        page = rest[:size]
        return dip_pb2.ListDipCataloguesResponse(
            catalogues=[catalogue_to_proto(g.published) for g in page],
            next_page_token=encode_token(str(page[-1].version_number)) if len(rest) > size else "")

    def list_groups(self, request: dip_pb2.ListDipGroupsRequest) -> dip_pb2.ListDipGroupsResponse:
        size = page_size(request.page_size, 1_000, 10_000)
        after = decode_token(request.page_token)  # the request's own errors before the catalogue's existence
        grouper = self._version(request.parent, "parent")
        groups = grouper.catalogue.groups
        start = _first_after(groups, after) if after else 0
        page = groups[start:start + size]
        more = start + size < len(groups)
        return dip_pb2.ListDipGroupsResponse(groups=[group_to_proto(g) for g in page],
                                             next_page_token=encode_token(page[-1].group_id) if more else "")

    def _version(self, name: str, field: str) -> VersionedGrouper:
        scheme_id, catalogue = parse_name(name, CATALOGUE, field)
        self._require_dip(scheme_id, field)
        if catalogue == LATEST:
            return self.grouper(scheme_id, None, field)
        if not catalogue.isascii() or not catalogue.isdigit():
            raise InvalidArgument.field(field, f"the catalogue of {name!r} is a version number or '-'")
        return self.grouper(scheme_id, int(catalogue), field)

    def _line(self, scheme_id: str) -> tuple[VersionedGrouper, ...]:
        assert self.catalogues is not None
        return tuple(self.catalogues.current.versions.get(scheme_id, ()))

    @staticmethod
    def _require_dip(scheme_id: str, field: str) -> None:
        if not is_dip_scheme(scheme_id):
            raise FailedPrecondition(f"{scheme_id} is a CHS-DRG scheme; catalogues belong to DIP schemes",
                                     reason="NOT_A_DIP_SCHEME", metadata={field: scheme_name(scheme_id)})

    # -- builds -------------------------------------------------------------------------------------------------
    async def build(self, request: dip_pb2.BuildDipCatalogueRequest) -> operations_pb2.Operation:
        if self.builds is None or self.builds.runs is None:
            raise FailedPrecondition("this grouping server builds no DIP catalogues (no database or no surgery "
                                     "list)", reason="DIP_BUILDS_UNAVAILABLE")
        (scheme_id,) = parse_name(request.scheme, SCHEME, "scheme")
        which = request.WhichOneof("source")
        source: UploadSource | FeedSource
        if which == "upload":
            source = UploadSource(request.upload.history)
        elif which == "case_feed":
            feed = request.case_feed
            periods = tuple(Period.from_proto(p, f"case_feed.settlement_periods[{i}]")
                            for i, p in enumerate(feed.settlement_periods))
            source = FeedSource(feed.region, periods, feed.as_of_sequence)
        else:
            raise InvalidArgument.field("source", "send the base-year cases: upload or case_feed")
        run = await self.builds.start(scheme_id, request.threshold, source, request.request_id)
        return self.builds.runs.operation(run)


def _first_after(groups: Sequence[CatalogueGroup], after: str) -> int:
    from bisect import bisect_right

    return bisect_right([g.group_id for g in groups], after)


def result_to_proto(r: DipResult, case_id: str, scheme: str, trace: Sequence[str] = ()) -> pb.GroupingResult:
    grouped = r.kind is not DipKind.UNGROUPABLE
    return pb.GroupingResult(
        case_id=case_id, status=pb.GROUP_STATUS_GROUPED if grouped else pb.GROUP_STATUS_NO_DIAGNOSIS,
        scheme=scheme, scheme_version=r.catalogue_version,
        message="" if grouped else "no principal diagnosis", trace=trace,
        dip=dip_pb2.DipAssignment(group=r.group, match=_MATCH[r.kind], procedures=r.procedures))


def catalogue_to_proto(v: CatalogueVersion) -> dip_pb2.DipCatalogue:
    c, p = v.catalogue, v.provenance
    core = len(c.core)
    message = dip_pb2.DipCatalogue(
        name=format_name(CATALOGUE, v.scheme_id, str(v.version)), version=v.version, version_label=v.label,
        digest=v.digest, source=_SOURCE.get(p.source, dip_pb2.DIP_CATALOGUE_SOURCE_UNSPECIFIED),
        threshold=p.threshold or 0, base_periods=[Period.parse(t).to_proto() for t in p.base_periods],
        as_of_sequence=p.as_of_sequence, cases_read=p.cases_read, cases_skipped=p.cases_skipped,
        core_group_count=core, comprehensive_group_count=len(c) - core, case_count=c.cases,
        core_case_count=c.core_cases)
    if v.created_time is not None:
        message.create_time.CopyFrom(_timestamp(v.created_time))
    return message


def catalogue_from_result(run: Run) -> dip_pb2.DipCatalogue:
    """A build run's response: the version it published, from its result."""
    r: dict[str, Any] = dict(run.result or {})
    message = dip_pb2.DipCatalogue(
        name=format_name(CATALOGUE, r["scheme_id"], str(r["version"])), version=r["version"],
        version_label=r["label"], digest=r["digest"],
        source=_SOURCE.get(r["source"], dip_pb2.DIP_CATALOGUE_SOURCE_UNSPECIFIED),
        threshold=r["threshold"] or 0, base_periods=[Period.parse(t).to_proto() for t in r["base_periods"]],
        as_of_sequence=r["as_of_sequence"], cases_read=r["cases_read"], cases_skipped=r["cases_skipped"],
        core_group_count=r["core_group_count"],
        comprehensive_group_count=r["group_count"] - r["core_group_count"], case_count=r["case_count"],
        core_case_count=r["core_case_count"])
    if r.get("create_time"):
        message.create_time.CopyFrom(_timestamp(datetime.fromisoformat(r["create_time"])))
    return message


def group_to_proto(g: CatalogueGroup) -> dip_pb2.DipGroup:
    return dip_pb2.DipGroup(group_id=g.group_id, kind=_KIND[g.kind], diagnosis=g.dx, procedures=g.procedures,
                            case_type=_TYPE[g.case_type], case_count=g.cases,
                            mean_cost=Money.of_yuan(g.mean_cost).to_proto())


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
