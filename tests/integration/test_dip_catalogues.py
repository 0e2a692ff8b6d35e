"""DIP catalogue versions in PostgreSQL: published once, numbered without gaps, immutable, seen by every
process, superseding the reference directory's file; builds from an uploaded history."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from libs.common.dates import Period
from libs.common.db.engine import session_factory
from libs.common.errors import FailedPrecondition, InvalidArgument, NotFound
from libs.common.runs import Runs, RunState
from libs.common.runs.model import RunKeyReused
from libs.common.runtime import Runtime
from services.grouping.adapters import tables
from services.grouping.adapters.dip_files import DipFileError, load_reference_catalogues, render_catalogue
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.case import DipCase, ProcedureClasses
from services.grouping.domain.dip.catalogue import Catalogue
from services.grouping.domain.dip.matching import DipKind
from services.grouping.domain.dip.scheme import CatalogueProvenance, SchemeIdError
from services.grouping.domain.errors import UnknownSchemeError
from services.grouping.service_layer.dip_build import build_from_upload
from services.grouping.service_layer.dip_catalogues import DipCatalogues
from services.grouping.service_layer.dip_service import DipBuilds, FeedSource, UploadSource
from services.grouping.service_layer.unit_of_work import GroupingUnitOfWork

CLASSES = ProcedureClasses(frozenset({"47.0100"}), "surgery-list-a")
PROVENANCE = CatalogueProvenance("import", note="test")


@pytest.fixture
async def new_uow(runtime: Runtime) -> AsyncIterator[Callable[[], GroupingUnitOfWork]]:
    engine = runtime.engine(pool_size=2)
    sessions = session_factory(engine)
    yield lambda: GroupingUnitOfWork(sessions)
    await engine.dispose()


def scheme() -> str:
    """A scheme id of its own per test (the session database is shared)."""
    return f"dip-{uuid.uuid4().int % 900000 + 100000}-2026"


def catalogue(*keys: tuple[str, tuple[str, ...]], copies: int = 2) -> Catalogue:
    builder = CatalogueBuilder(CLASSES)
    for dx, px in keys:
        for _ in range(copies):
            builder.add(DipCase((dx,), px), Decimal("100.00"))
    return builder.catalogue(2)


async def test_versions_are_numbered_in_order_and_an_unchanged_catalogue_is_not_published_twice(
        new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    sid = scheme()
    holder = DipCatalogues(CLASSES, new_uow=new_uow)
    first, created = await holder.publish(sid, catalogue(("K35.300", ("47.0100",))), PROVENANCE)
    assert (first.version, created, first.label) == (1, True, f"1+{first.digest[:12]}")
    second, created = await holder.publish(sid, catalogue(("K35.300", ("47.0100",)), ("J18.900", ())), PROVENANCE)
    assert (second.version, created) == (2, True)
    again, created = await holder.publish(sid, catalogue(("K35.300", ("47.0100",)), ("J18.900", ())), PROVENANCE)
    assert (again.version, created, again.digest) == (2, False, second.digest)
    assert [v.version for v in await holder.stored_versions(sid)] == [1, 2]
    latest = holder.group(sid, [DipCase(("J18.900",))])[0]
    assert (latest.group, latest.kind, latest.catalogue_version) == ("J18.9|", DipKind.CORE, second.label)
    pinned = holder.group(sid, [DipCase(("J18.900",))], version=1)[0]
    assert (pinned.group, pinned.kind, pinned.catalogue_version) == ("J18/C", DipKind.COMPREHENSIVE, first.label)
    with pytest.raises(NotFound, match="no version 7"):
        holder.group(sid, [], version=7)
    with pytest.raises(UnknownSchemeError):
        holder.group(scheme(), [])


async def test_concurrent_publishers_take_consecutive_versions(new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    sid = scheme()
    holders = [DipCatalogues(CLASSES, new_uow=new_uow) for _ in range(4)]
    results = await asyncio.gather(*(h.publish(sid, catalogue((f"A0{i}.000", ())), PROVENANCE)
                                     for i, h in enumerate(holders)))
    assert sorted(v.version for v, _ in results) == [1, 2, 3, 4]


async def test_versions_are_immutable_in_the_database(new_uow: Callable[[], GroupingUnitOfWork],
                                                      database_url: str) -> None:
    sid = scheme()
    await DipCatalogues(CLASSES, new_uow=new_uow).publish(sid, catalogue(("I10.x00", ())), PROVENANCE)
    conn = await asyncpg.connect(database_url)
    try:
        for statement in ("UPDATE grouping.dip_catalogue_version SET note = 'changed' WHERE scheme_id = $1",
                          "DELETE FROM grouping.dip_catalogue_version WHERE scheme_id = $1"):
            with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
                await conn.execute(statement, sid)
        assert await conn.fetchval("SELECT count(*) FROM grouping.dip_catalogue_version WHERE scheme_id = $1",
                                   sid) == 1
    finally:
        await conn.close()


async def test_another_process_sees_a_new_version_on_refresh(new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    sid = scheme()
    publisher, reader = DipCatalogues(CLASSES, new_uow=new_uow), DipCatalogues(CLASSES, new_uow=new_uow)
    await reader.refresh()
    assert await reader.refresh() is False  # nothing published meanwhile
    published, _ = await publisher.publish(sid, catalogue(("I10.x00", ())), PROVENANCE)
    assert await reader.refresh() is True
    assert reader.current.grouper(sid).version == published.label


async def test_a_version_built_with_another_surgery_list_is_not_served(
        new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    sid = scheme()
    other = ProcedureClasses(frozenset(), "surgery-list-b")
    await DipCatalogues(other, new_uow=new_uow).publish(sid, catalogue(("I10.x00", ())), PROVENANCE)
    holder = DipCatalogues(CLASSES, new_uow=new_uow)
    await holder.refresh()
    assert sid not in holder.current.versions


async def test_reference_catalogues_are_version_zero_and_stored_versions_supersede_them(
        tmp_path: Path, new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    sid = scheme()
    folder = tmp_path / "dip" / sid
    folder.mkdir(parents=True)
    (folder / "catalogue.tsv").write_bytes(render_catalogue(catalogue(("K35.300", ("47.0100",)))))
    (tmp_path / "dip" / "examples").mkdir()  # not a scheme: ignored
    reference = load_reference_catalogues(tmp_path, CLASSES)
    assert [(v.scheme_id, v.version, v.label.startswith("ref+")) for v in reference] == [(sid, 0, True)]
    holder = DipCatalogues(CLASSES, reference, new_uow=new_uow)
    await holder.refresh()
    assert holder.group(sid, [DipCase(("K35.3",), ("47.0100",))])[0].kind is DipKind.CORE
    await holder.publish(sid, catalogue(("I10.x00", ())), PROVENANCE)
    assert holder.group(sid, [DipCase(("K35.3",), ("47.0100",))])[0].kind is DipKind.COMPREHENSIVE
    assert holder.group(sid, [DipCase(("K35.3",), ("47.0100",))], version=0)[0].kind is DipKind.CORE


async def test_a_scheme_id_must_say_region_and_year(new_uow: Callable[[], GroupingUnitOfWork]) -> None:
    with pytest.raises(SchemeIdError, match="dip-<6-digit region>-<year>"):
        await DipCatalogues(CLASSES, new_uow=new_uow).publish("dip-jinhua", catalogue(), PROVENANCE)


async def test_build_from_an_upload_plain_or_gzip_with_progress() -> None:
    lines = b"".join(b'{"case_id": "B%d", "dx": ["K35.300"], "px": ["47.0100"], "total_cost": "10.0%d"}\n' % (i, i % 10)
                     for i in range(25_000)) + b'{"case_id": "X", "dx": [], "total_cost": "1"}\n'
    seen: list[int] = []

    async def progress(read: int) -> None:
        seen.append(read)

    for data in (lines, gzip.compress(lines)):
        seen.clear()
        built, provenance = await build_from_upload(data, 15, CLASSES, progress)
        assert [(g.group_id, g.cases, str(g.mean_cost)) for g in built] == [("K35.3|47.0100", 25_000, "10.05")]
        assert (provenance.source, provenance.threshold, provenance.cases_read, provenance.cases_skipped) == (
            "upload", 15, 25_001, 1)
        assert seen == [10_000, 20_000, 25_001]
    with pytest.raises(DipFileError, match="upload:2: total_cost is missing"):
        await build_from_upload(b'{"case_id": "a", "dx": [], "total_cost": "1"}\n{"case_id": "b"}\n', 15, CLASSES)
    with pytest.raises(DipFileError, match="not a readable gzip"):
        await build_from_upload(b"\x1f\x8b\x08broken", 15, CLASSES)


@pytest.fixture
async def builds(runtime: Runtime, new_uow: Callable[[], GroupingUnitOfWork]) -> AsyncIterator[DipBuilds]:
    engine = runtime.engine(pool_size=2)
    built = DipBuilds(engine, DipCatalogues(CLASSES, new_uow=new_uow), None, None)
    built.runs = Runs(engine, tables.run, [built.kind()], domain="grouping.medpay", lease_seconds=5)
    await built.runs.open()
    yield built
    await built.runs.close()
    await engine.dispose()


HISTORY = b"".join(b'{"case_id": "B%d", "dx": ["K35.300"], "px": ["47.0100"], "total_cost": "100.0%d"}\n' % (i, i % 2)
                   for i in range(20))


async def test_a_build_run_publishes_a_version_once_per_request(builds: DipBuilds) -> None:
    assert builds.runs is not None
    sid = scheme()
    run = await builds.start(sid, 15, UploadSource(gzip.compress(HISTORY)), request_id=str(uuid.uuid4()))
    done = await builds.runs.wait(run.id, timeout=30)
    assert done.state is RunState.SUCCEEDED, done.error
    assert done.result["version"] == 1 and done.result["core_group_count"] == 1
    assert (done.result["case_count"], done.result["source"], done.result["threshold"]) == (20, "upload", 15)
    assert (done.progress.done, done.progress.unit) == (20, "cases")
    again = await builds.start(sid, 15, UploadSource(gzip.compress(HISTORY)))  # no request id: by content
    assert (await builds.runs.wait(again.id, timeout=30)).result["created"] is False
    same = await builds.start(sid, 15, UploadSource(gzip.compress(HISTORY)))
    assert same.id == again.id  # the same request is the same run


async def test_a_request_id_names_one_build(builds: DipBuilds) -> None:
    request_id = str(uuid.uuid4())
    await builds.start(scheme(), 15, UploadSource(HISTORY), request_id=request_id)
    with pytest.raises(RunKeyReused):
        await builds.start(scheme(), 15, UploadSource(HISTORY), request_id=request_id)


async def test_a_bad_history_fails_the_run_naming_the_line(builds: DipBuilds) -> None:
    assert builds.runs is not None
    run = await builds.start(scheme(), 15, UploadSource(HISTORY + b'{"case_id": "x", "dx": ["I10"]}\n'))
    done = await builds.runs.wait(run.id, timeout=30)
    assert done.state is RunState.FAILED and done.error is not None
    assert (done.error.code, done.error.reason) == ("INVALID_ARGUMENT", "INVALID_HISTORY")
    assert "upload:21: total_cost is missing" in done.error.message


@pytest.mark.parametrize(("scheme_id", "threshold", "source", "field"), [
    ("dip-3307-2026", 15, UploadSource(HISTORY), "scheme"),
    ("dip-330700-2026", 0, UploadSource(HISTORY), "threshold"),
    ("dip-330700-2026", 15, UploadSource(b""), "upload.history"),
])
async def test_bad_build_requests_are_refused_before_any_run(builds: DipBuilds, scheme_id: str, threshold: int,
                                                             source: UploadSource, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await builds.start(scheme_id, threshold, source)
    assert refused.value.metadata["field"] == field


async def test_a_feed_build_needs_a_collection_service(builds: DipBuilds) -> None:
    with pytest.raises(FailedPrecondition, match="no collection service"):
        await builds.start(scheme(), 15, FeedSource("", (Period.parse("2025"),)))


async def test_the_tables_agree_with_the_migrations(runtime: Runtime) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def differences(sync: Any) -> list[Any]:
        context = MigrationContext.configure(sync, opts={
            "include_schemas": True,
            "include_name": lambda name, type_, parents: type_ != "schema" or name == tables.SCHEMA,
            "include_object": lambda obj, name, type_, reflected, compare_to: name != "alembic_version"})
        return list(compare_metadata(context, tables.metadata))

    engine = runtime.engine(pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()
