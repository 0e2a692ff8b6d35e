"""Bulk import of the core system's settlement records from JSON lines (``settlement_records.jsonl[.gz]``):
resumable and exactly once like the list import. Each chunk's records are stored with the file's checkpoint in
one transaction; after it commits, the lists that were waiting for them are joined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .import_jobs import JobState, checkpoint, chunks, file_digest, finish_job, numbered, open_lines, start_job
from .records import NotJson, RecordIntake, RecordOutcome, RecordResult, store_records
from .unit_of_work import CollectionUnitOfWork

MAX_REFUSALS_KEPT = 100


@dataclass
class RecordImportReport:
    lines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    refusals: list[tuple[int, str]] = field(default_factory=list)  # (file line, why), the first hundred
    resumed_at: int = 0
    already_done: bool = False

    @property
    def stored(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome not in ("UNCHANGED", "REFUSED"))


Progress = Callable[[int], None]


class RecordImport:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], intake: RecordIntake) -> None:
        self._new_uow = new_uow
        self._intake = intake

    async def run(self, path: Path, *, chunk: int = 5000, progress: Progress | None = None,
                  stop_after_chunks: int | None = None) -> RecordImportReport:
        digest = file_digest(path)
        report = RecordImportReport()
        async with self._new_uow() as uow:
            job = await start_job(uow.session, digest, path, "records")
            await uow.commit()
        if job.finished:
            report.lines, report.already_done = job.lines_done, True
            report.outcomes.update({"STORED": job.accepted, "REFUSED": job.rejected})
            return report
        report.resumed_at = report.lines = job.lines_done
        state = JobState(job.lines_done, job.accepted, job.rejected)
        done_chunks = 0
        with open_lines(path) as f:
            for batch in chunks(numbered(f, skip=report.lines), chunk):
                results = await self._chunk(batch, digest, state)
                report.lines = state.lines_done
                for result in results:
                    report.outcomes[result.outcome.value] += 1
                    if result.outcome is RecordOutcome.REFUSED and len(report.refusals) < MAX_REFUSALS_KEPT:
                        report.refusals.append((result.index, result.error))
                if progress is not None:
                    progress(len(batch))
                done_chunks += 1
                if stop_after_chunks is not None and done_chunks >= stop_after_chunks:
                    return report
        async with self._new_uow() as uow:
            await finish_job(uow.session, digest)
            await uow.commit()
        return report

    async def _chunk(self, batch: list[tuple[int, bytes]], digest: str, state: JobState) -> list[RecordResult]:
        lines: list[tuple[int, object]] = []
        for number, raw in batch:
            try:
                lines.append((number, orjson.loads(raw)))
            except orjson.JSONDecodeError as bad:
                lines.append((number, NotJson(str(bad))))
        async with self._new_uow() as uow:
            results = await store_records(uow.session, lines)
            state.lines_done = batch[-1][0]
            state.accepted += sum(r.outcome not in (RecordOutcome.UNCHANGED, RecordOutcome.REFUSED) for r in results)
            state.rejected += sum(r.outcome is RecordOutcome.REFUSED for r in results)
            await checkpoint(uow.session, digest, state)
            await uow.commit()
        await self._intake.join_after([(r.fixmedins_code, r.setl_id) for r in results
                                       if r.outcome not in (RecordOutcome.UNCHANGED, RecordOutcome.REFUSED)])
        return results
