"""Bulk import of settlement lists (the synthetic prefecture's output, or a hospital's backlog), optionally with
the settlement records they join.

Chunk by chunk: read, meet the records already stored (``--records`` imports the records file first), quality
control (codes validated in one batch per chunk), group (one call per scheme per chunk), then write (COPY +
set-based statements) and checkpoint in one transaction holding the chunk's stays' locks. A record that changed
between the reading and the writing leaves a join task, worked right after the commit. Interrupted, the import
resumes after the last committed chunk; run again, it changes nothing (every list keeps its original msgid as its
idempotency key). Lists without their record are stored PENDING, rich lists without a record are checked and
grouped from their own data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from libs.common.config import Settings
from libs.common.runs import RunContext

from ..adapters.records import add_join_tasks, current_records, lock_keys, record_revisions
from ..adapters.repository import PENDING_ID_TOKEN as PENDING_ID
from ..adapters.repository import PENDING_REVISION_TOKEN as PENDING_REVISION
from ..adapters.staging import KeysTaken, StagedList, accepted_list, rejected_list, write_staged
from ..domain.limits import bounded
from ..domain.model import Finding, ListStatus, ParsedList
from ..domain.qc import RULESET_VERSION
from ..domain.reading import ReadLine, read_lines
from ..domain.schemes import SchemeSchedule
from . import chunk_worker
from .cases import CaseChecker, Verdict
from .import_jobs import IMPORT_LISTS, FileImports, checkpoint_of, numbered, open_lines, save_checkpoint
from .joins import Joiner
from .line_readers import few_collections, responsive_loop
from .preparers import Batch, ChunkWorkers, Preparers, default_workers
from .unit_of_work import CollectionUnitOfWork
from .uploads import Rejected, output_of_accepted, rejected_output


@dataclass
class ImportReport:
    lines: int = 0
    accepted: int = 0
    pending: int = 0
    rejected: int = 0
    skipped: int = 0
    resumed_at: int = 0
    already_done: bool = False
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("preparing here", "waiting for workers", "write", "waiting for writes"), 0.0))
    """Where the time went: preparing chunks in this process (reading, checking, grouping, rows), waiting for a
    worker process's chunk, writing (COPY and set-based statements, overlapping the next chunks' preparation),
    waiting for a write to end."""
    worker_chunks: int = 0
    """Chunks prepared by worker processes (the rest were prepared here)."""


Progress = Callable[[int], None]
CHUNK = 2000
"""Lines per chunk (and transaction): small enough that this process and a worker share a file's chunks evenly
(5,000 left one of them idle for seconds at the end), large enough that a chunk's fixed cost (a few statements
and calls) stays small."""
KEY_RACES = 5
"""Times a chunk is written again after uploads at the door took some of its keys meanwhile (each time the
keys taken are skipped; a sixth race in a row fails the import, which resumes at that chunk)."""


Reply = Callable[[int, str, Any], dict[str, Any]]
"""Builds the national envelope around (infcode, err_msg, output): the door's, so that a replay of an imported
list's msgid answers as an upload through the door does."""


def plain_reply(infcode: int, err_msg: str, output: Any) -> dict[str, Any]:
    return {"infcode": infcode, "err_msg": err_msg, "output": output}


@dataclass(frozen=True)
class _Prepared:
    """A chunk checked and grouped, ready to be written."""

    last_line: int
    rows: list[StagedList]
    stays: list[tuple[str, str]]
    records: dict[tuple[str, str], Any]
    waves: int
    skipped: int


class ChunkPreparation:
    """A chunk's lines made ready to be written: met with their records, checked, grouped, made rows. What a
    worker process needs of an import (``chunk_worker``), and all it builds."""

    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], checker: CaseChecker,
                 reply: Reply = plain_reply) -> None:
        self._new_uow = new_uow
        self._checker = checker
        self._reply = reply

    @property
    def schedule(self) -> SchemeSchedule:
        return self._checker.schedule

    async def prepare_wire(self, batch: Batch, digest: str) -> Any:
        """A chunk read and prepared here, in its wire form (what a worker process hands back)."""
        return to_wire(await self.prepare(read_lines(batch, digest)))

    async def prepare(self, batch: list[ReadLine]) -> _Prepared:
        """A chunk's lines checked, grouped and made rows, ready to be written."""
        readable: list[tuple[int, str, str, ParsedList]] = []
        rows: list[StagedList] = []
        keys: set[str] = set()
        skipped = 0
        for number, key, content, parsed, findings in batch:
            if key in keys:  # the same msgid twice in one chunk: the first wins, as a replay would
                skipped += 1
                continue
            keys.add(key)
            if parsed is None:
                rows.append(self._rejected_row(number, key, content, findings))
            else:
                readable.append((number, key, content, parsed))
        stays = sorted({(p.fixmedins_code, p.setl_id) for _, _, _, p in readable})
        async with self._new_uow() as uow:
            records = await current_records(uow.session, stays)
        verdicts = await self._checker.check([(p, records.get((p.fixmedins_code, p.setl_id)))
                                              for _, _, _, p in readable])
        seen: dict[tuple[str, str], int] = {}
        for (number, key, content, parsed), verdict in zip(readable, verdicts, strict=True):
            if verdict.status is ListStatus.REJECTED:
                rows.append(self._rejected_row(number, key, content, list(verdict.errors), parsed))
                continue
            pair = (parsed.fixmedins_code, parsed.setl_id)
            wave = seen[pair] = seen.get(pair, -1) + 1  # the same list twice in a chunk: a later wave
            rows.append(self._accepted_row(wave, number, key, content, verdict))
        return _Prepared(batch[-1][0], rows, stays, records, max(seen.values(), default=0) + 1, skipped)

    def _accepted_row(self, wave: int, number: int, key: str, content: str, v: Verdict) -> StagedList:
        warnings = bounded(v.findings)
        output = output_of_accepted(PENDING_ID, PENDING_REVISION, warnings, v.group, v.status)
        return accepted_list(v.case, wave=wave, rownum=number, key=key, digest=content, status=v.status,
                             record_revision=v.record_revision, group=v.group, findings=warnings,
                             ruleset=RULESET_VERSION, hospital_level=v.hospital_level,
                             response=_json(self._reply(0, "", output)))

    def _rejected_row(self, number: int, key: str, content: str, findings: list[Finding],
                      parsed: ParsedList | None = None) -> StagedList:
        errors = bounded(findings)
        err_msg, output = rejected_output(Rejected(errors))
        return rejected_list(rownum=number, key=key, digest=content or key,
                             fixmedins_code=parsed.fixmedins_code if parsed else "",
                             setl_id=parsed.setl_id if parsed else "", findings=errors,
                             response=_json(self._reply(-1, err_msg, output)))


class BulkImport:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], checker: CaseChecker, joiner: Joiner,
                 imports: FileImports, reply: Reply = plain_reply, *, settings: Settings | None = None) -> None:
        """``settings``: the service's, from which worker processes build their own app (without them every
        chunk is prepared here)."""
        self._settings = settings
        self._new_uow = new_uow
        self._joiner = joiner
        self._imports = imports
        self.chunks = ChunkPreparation(new_uow, checker, reply)

    async def run(self, path: Path, *, chunk: int = CHUNK, progress: Progress | None = None,
                  workers: int | ChunkWorkers | None = None) -> ImportReport:
        """Import the file (or resume its interrupted import); the run ``collection.import-lists`` of the
        file's digest records it. Chunks are prepared here and in ``workers`` processes: a number (default: one
        per core beside this one for a large file, ``preparers.default_workers``; 0 prepares them all here;
        workers need the importer's ``settings``), or workers the caller started (``start_workers``: the
        command line forks them before it connects to anything, which saves each a second of start-up)."""
        report = ImportReport()
        if workers is None:
            workers = default_workers(path)
        if not isinstance(workers, int):
            return await self._run(path, chunk, progress, workers, report)
        if workers == 0 or self._settings is None:
            return await self._run(path, chunk, progress, None, report)
        with start_workers(workers, self._settings) as own:  # spawned: this process runs an event loop
            return await self._run(path, chunk, progress, own, report)

    async def _run(self, path: Path, chunk: int, progress: Progress | None, workers: ChunkWorkers | None,
                   report: ImportReport) -> ImportReport:
        loop = asyncio.get_running_loop()

        async def here(batch: Batch, digest: str) -> _Prepared:
            clock = time.perf_counter()
            read = await loop.run_in_executor(reader, read_lines, batch, digest)
            prepared = await self.chunks.prepare(read)
            _lap(report, "preparing here", clock)
            return prepared

        async def work(ctx: RunContext, digest: str) -> dict[str, int]:
            state = checkpoint_of(ctx)
            _restore(report, state)
            writing: asyncio.Task[None] | None = None
            with open_lines(path) as f, few_collections(), responsive_loop():
                try:
                    async for prepared in preparers.prepared(tapered(numbered(f, skip=state["lines"]), chunk),
                                                             digest):
                        if writing is not None:
                            await self._written(writing, report, progress)
                        # The chunk is written while the next ones are prepared.
                        writing = asyncio.create_task(self._write(prepared, report, ctx, path))
                    if writing is not None:
                        await self._written(writing, report, progress)
                finally:
                    if writing is not None and not writing.done():
                        writing.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await writing
            report.seconds["waiting for workers"] = preparers.waited
            report.worker_chunks = preparers.remote_chunks
            return _counts(report)

        # The workers start (spawned, a second or two) while the file's digest is taken and its run looked up.
        preparers = Preparers(workers, local=here, remote=chunk_worker.prepare, decode=from_wire,
                              context=self.chunks.schedule)
        with ThreadPoolExecutor(1, thread_name_prefix="import-reader") as reader:
            ended = await self._imports.run(IMPORT_LISTS, path, work)
        _restore(report, ended.counts)
        report.resumed_at, report.already_done = ended.resumed_at, ended.already_done
        return report

    @staticmethod
    async def _written(writing: asyncio.Task[None], report: ImportReport, progress: Progress | None) -> None:
        clock = time.perf_counter()
        lines = report.lines
        await writing
        _lap(report, "waiting for writes", clock)
        if progress is not None:
            progress(report.lines - lines)

    async def _write(self, chunk: _Prepared, report: ImportReport, ctx: RunContext, path: Path) -> None:
        """Write the chunk and its checkpoint in one transaction holding its stays' locks. Chunks are written
        one after the other, in file order (the next write starts after this one's commit). A key that an
        upload at the door took while the chunk was written rolls it back; written again, it skips that key."""
        clock = time.perf_counter()
        for attempt in range(1, KEY_RACES + 1):
            try:
                moved = await self._write_once(chunk, report, ctx, path)
                break
            except KeysTaken:
                if attempt == KEY_RACES:
                    raise
        if moved:
            await self._joiner.run(moved)
        _lap(report, "write", clock)

    async def _write_once(self, chunk: _Prepared, report: ImportReport, ctx: RunContext,
                          path: Path) -> list[tuple[str, str]]:
        async with self._new_uow() as uow:
            await lock_keys(uow.session, chunk.stays)
            now = await record_revisions(uow.session, chunk.stays)  # (revision, status): no bodies to parse
            moved = [s for s in chunk.stays if now.get(s) != _revision(chunk.records.get(s))]
            await add_join_tasks(uow.session, moved)  # a record changed meanwhile: joined again after commit
            counts = await write_staged(uow.session, chunk.rows, waves=chunk.waves)
            after = _counts(report)
            after["lines"] = chunk.last_line  # the file line reached: where a resumed import starts
            after["accepted"] += counts.accepted
            after["pending"] += counts.pending
            after["rejected"] += counts.rejected
            after["skipped"] += counts.skipped + chunk.skipped
            await save_checkpoint(ctx, after, path, await uow.session.connection())
            await uow.commit()
        _restore(report, after)
        return moved

def start_workers(count: int, settings: Settings) -> ChunkWorkers:
    """``count`` worker processes preparing an import's chunks (forked when this process can still fork:
    ``preparers.can_fork``)."""
    return ChunkWorkers(count, settings, start=chunk_worker.start)


class _Seen(NamedTuple):
    """A stay's record as a chunk saw it (what ``_write_once`` compares with the record under the lock)."""

    revision: int
    status: str


_ROW_VALUES = attrgetter(*(f.name for f in fields(StagedList)))


def to_wire(chunk: _Prepared) -> tuple[Any, ...]:
    """A prepared chunk as plain tuples of texts and numbers (a worker's answer: pickled at a few microseconds a
    list, where the rows' dataclasses would cost ten times that)."""
    rows = [_ROW_VALUES(row) for row in chunk.rows]
    seen = {stay: (r.revision, r.status) for stay, r in chunk.records.items()}
    return chunk.last_line, rows, chunk.stays, seen, chunk.waves, chunk.skipped


def from_wire(wire: tuple[Any, ...]) -> _Prepared:
    last_line, rows, stays, seen, waves, skipped = wire
    return _Prepared(last_line, [StagedList(*row) for row in rows], stays,
                     {stay: _Seen(*r) for stay, r in seen.items()}, waves, skipped)


TAPER, SMALLEST_PIECE = 4, 500
"""Pieces the last chunk of a file is cut into, of at least so many lines (below, a chunk's fixed cost, a few
statements and calls, outweighs what overlapping saves)."""


def tapered(lines: Iterator[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    """Chunks of ``size`` lines, the last one cut into up to ``TAPER`` smaller ones: the chunks are pipelined (one is
    written while the next is read, checked and grouped), and the writing of the last has nothing left to
    overlap; a quarter of it ends the import sooner (a full chunk's write is seconds, a chunk's fixed cost a
    few statements). Checkpoints stay on chunk boundaries, of any size."""
    batch: list[tuple[int, bytes]] = []
    for line in lines:
        if len(batch) == size:  # a full chunk, and a line after it: not the last
            yield batch
            batch = []
        batch.append(line)
    piece = max(SMALLEST_PIECE, -(-len(batch) // TAPER))
    for start in range(0, len(batch), piece):
        yield batch[start:start + piece]


def _json(value: Any) -> bytes:
    """A key's response as orjson's UTF-8 bytes, which COPY sends as they are: as a str (with CJK messages) it
    was decoded here, pickled back to UTF-8 by a worker, decoded again here and encoded for COPY (5 us a list)."""
    return orjson.dumps(value)


def _restore(report: ImportReport, counts: dict[str, int]) -> None:
    report.lines, report.accepted, report.pending = counts["lines"], counts.get("accepted", 0), counts.get("pending", 0)
    report.rejected, report.skipped = counts.get("rejected", 0), counts.get("skipped", 0)


def _counts(report: ImportReport) -> dict[str, int]:
    return {"lines": report.lines, "accepted": report.accepted, "pending": report.pending,
            "rejected": report.rejected, "skipped": report.skipped}


def _revision(stored: Any) -> tuple[int, str] | None:
    return (stored.revision, stored.status) if stored is not None else None


def _lap(report: ImportReport, phase: str, since: float) -> float:
    now = time.perf_counter()
    report.seconds[phase] += now - since
    return now
