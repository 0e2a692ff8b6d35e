"""DIP catalogue builds as runs of the run framework (``libs.common.runs``), and reads of published versions.

``BuildDipCatalogue`` starts a run of kind ``dip.build``: idempotent by its run key (the client's request id,
else a digest of what it asked for), executed in the background by any grouping process, resumed after a crash
or restart (a build starts over: it is quick, and publishing an unchanged catalogue stores nothing new), with
progress in cases read. An upload is stored first, by digest, so a resumed run reads the same bytes; a build from
the case feed pins the feed's head when it starts, so it reads one consistent state however often it resumes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition, InvalidArgument
from libs.common.runs import JobKind, Run, RunContext, Runs, StartRun, digest

from ..adapters.dip_files import DipFileError
from ..adapters.tables import dip_build_upload
from ..domain.dip.build import BuildError
from ..domain.dip.scheme import CatalogueVersion, SchemeIdError, parse_scheme_id
from .dip_build import CaseFeed, build_from_feed, build_from_upload
from .dip_catalogues import DipCatalogues

BUILD_KIND = "dip.build"
MAX_THRESHOLD = 1_000_000


@dataclass(frozen=True)
class UploadSource:
    """FORMAT.md's history JSON lines (gzip allowed), sent with the request."""

    history: bytes


@dataclass(frozen=True)
class FeedSource:
    """Collection's active cases of a region and settlement periods, as of a feed sequence (0: the head now)."""

    region: str
    periods: tuple[Period, ...]
    as_of_sequence: int = 0


class DipBuilds:
    """Starts and executes catalogue builds; ``runs`` is created with ``kind()`` among the service's job kinds."""

    def __init__(self, engine: AsyncEngine, catalogues: DipCatalogues, feed: CaseFeed | None,
                 feed_head: Callable[[], Awaitable[int]] | None) -> None:
        self._engine = engine
        self._catalogues = catalogues
        self._feed = feed
        self._feed_head = feed_head
        self.runs: Runs | None = None

    def kind(self, response: Callable[[Run], Any] | None = None, metadata: Callable[[Run], Any] | None = None
             ) -> JobKind:
        return JobKind(BUILD_KIND, self._job, metadata=metadata, response=response, max_attempts=3)

    async def start(self, scheme_id: str, threshold: int, source: UploadSource | FeedSource,
                    request_id: str = "") -> Run:
        """Check the request, store an upload, pin the feed, start (or find) the run."""
        assert self.runs is not None, "DipBuilds.runs is set when the service is wired"
        try:
            region, _ = parse_scheme_id(scheme_id)
        except SchemeIdError as bad:
            raise InvalidArgument.field("scheme", str(bad)) from None
        if not 1 <= threshold <= MAX_THRESHOLD:
            raise InvalidArgument.field("threshold", f"a number of cases from 1 to {MAX_THRESHOLD:,}")
        parameters: dict[str, Any] = {"scheme_id": scheme_id, "threshold": threshold}
        if isinstance(source, UploadSource):
            if not source.history:
                raise InvalidArgument.field("upload.history", "the history file is empty")
            upload = digest(source.history)
            await self._store_upload(upload, source.history)
            parameters |= {"source": "upload", "upload_digest": upload, "upload_bytes": len(source.history)}
            input_digest = upload
        else:
            sequence = await self._pin(source, region)
            periods = [str(p) for p in source.periods]
            parameters |= {"source": "feed", "region": source.region or region, "periods": periods,
                           "as_of_sequence": sequence}
            input_digest = digest({"region": source.region or region, "periods": periods, "sequence": sequence})
        run_key = request_id or digest(parameters)
        return await self.runs.start(StartRun(BUILD_KIND, run_key, parameters, input_digest=input_digest,
                                              versions={"surgery_list": self._catalogues.classes.digest},
                                              unit="cases"))

    async def _pin(self, source: FeedSource, scheme_region: str) -> int:
        if source.region and source.region != scheme_region:
            raise InvalidArgument.field("case_feed.region", f"the scheme is region {scheme_region}'s, "
                                        f"not {source.region}'s")
        if not source.periods:
            raise InvalidArgument.field("case_feed.settlement_periods", "name at least one base period")
        if source.as_of_sequence < 0:
            raise InvalidArgument.field("case_feed.as_of_sequence", "must not be negative")
        if self._feed is None or self._feed_head is None:
            raise FailedPrecondition("this grouping server has no collection service to read the case feed from",
                                     reason="CASE_FEED_UNAVAILABLE")
        return source.as_of_sequence or await self._feed_head()

    async def _store_upload(self, key: str, data: bytes) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(dip_build_upload).values(digest=key, data=data, size=len(data))
                               .on_conflict_do_nothing(index_elements=["digest"]))

    async def _upload(self, key: str) -> bytes:
        async with self._engine.connect() as conn:
            data = (await conn.execute(select(dip_build_upload.c.data).where(dip_build_upload.c.digest == key)
                                       )).scalar_one_or_none()
        if data is None:
            raise FailedPrecondition(f"the uploaded history {key[:12]} is no longer stored",
                                     reason="UPLOAD_MISSING")
        return bytes(data)

    async def _job(self, ctx: RunContext) -> dict[str, Any]:
        p = ctx.run.parameters
        classes = self._catalogues.classes
        if ctx.run.versions.get("surgery_list") != classes.digest:
            raise FailedPrecondition("this run was started under another surgery list than this server's",
                                     reason="SURGERY_LIST_CHANGED")

        async def progress(read: int) -> None:
            await ctx.report(read, message="reading base-year cases")

        try:
            if p["source"] == "upload":
                catalogue, provenance = await build_from_upload(await self._upload(p["upload_digest"]),
                                                                p["threshold"], classes, progress)
            else:
                assert self._feed is not None
                periods = [Period.parse(text) for text in p["periods"]]
                catalogue, provenance = await build_from_feed(self._feed, p["region"], periods, p["threshold"],
                                                              classes, as_of_sequence=p["as_of_sequence"],
                                                              progress=progress)
        except DipFileError as bad:
            raise InvalidArgument(str(bad), reason="INVALID_HISTORY",
                                  metadata={"line": str(bad.line), "problem": bad.problem}) from None
        except BuildError as bad:
            raise InvalidArgument(str(bad), reason="INVALID_HISTORY") from None
        await ctx.report(provenance.cases_read, message="publishing the catalogue", force=True)
        published, created = await self._catalogues.publish(p["scheme_id"], catalogue, provenance)
        return version_summary(published, created)


def version_summary(v: CatalogueVersion, created: bool = True) -> dict[str, Any]:
    """A published version as JSON (a run's result; what the API's DipCatalogue message is made from)."""
    c = v.catalogue
    return {"scheme_id": v.scheme_id, "version": v.version, "label": v.label, "digest": v.digest,
            "created": created, "source": v.provenance.source, "threshold": v.provenance.threshold,
            "base_periods": list(v.provenance.base_periods), "as_of_sequence": v.provenance.as_of_sequence,
            "cases_read": v.provenance.cases_read, "cases_skipped": v.provenance.cases_skipped,
            "group_count": len(c), "core_group_count": len(c.core), "case_count": c.cases,
            "core_case_count": c.core_cases,
            "create_time": v.created_time.isoformat() if v.created_time else None}

