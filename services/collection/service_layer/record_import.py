"""Bulk import of the core system's settlement records from JSON lines (``settlement_records.jsonl[.gz]``):
resumable and exactly once like the list import. Each chunk's records are stored with the file's checkpoint in
one transaction; after it commits, the lists that were waiting for them are joined."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from libs.common.runs import RunContext

from .import_jobs import IMPORT_RECORDS, FileImports, checkpoint_of, chunks, numbered, open_lines, save_checkpoint
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
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], intake: RecordIntake,
                 imports: FileImports) -> None:
        self._new_uow = new_uow
        self._intake = intake
        self._imports = imports

    async def run(self, path: Path, *, chunk: int = 5000, progress: Progress | None = None) -> RecordImportReport:
        """Import the file (or resume its interrupted import); the run ``collection.import-records`` of the
        file's digest records it, with the outcomes counted in its checkpoint."""
        report = RecordImportReport()

        async def work(ctx: RunContext, digest: str) -> dict[str, int]:
            state = checkpoint_of(ctx)
            with open_lines(path) as f:
                for batch in chunks(numbered(f, skip=state["lines"]), chunk):
                    results = await self._chunk(batch, state, ctx, path)
                    for result in results:
                        if result.outcome is RecordOutcome.REFUSED and len(report.refusals) < MAX_REFUSALS_KEPT:
                            report.refusals.append((result.index, result.error))
                    if progress is not None:
                        progress(len(batch))
            return state

        ended = await self._imports.run(IMPORT_RECORDS, path, work)
        counts = ended.counts
        report.lines = counts.pop("lines", 0)
        report.outcomes.update(counts)
        report.resumed_at, report.already_done = ended.resumed_at, ended.already_done
        return report

    async def _chunk(self, batch: list[tuple[int, bytes]], state: dict[str, int], ctx: RunContext,
                     path: Path) -> list[RecordResult]:
        lines: list[tuple[int, object]] = []
        for number, raw in batch:
            try:
                lines.append((number, orjson.loads(raw)))
            except orjson.JSONDecodeError as bad:
                lines.append((number, NotJson(str(bad))))
        async with self._new_uow() as uow:
            results = await store_records(uow.session, lines)
            after = dict(state, lines=batch[-1][0])
            for result in results:
                after[result.outcome.value] = after.get(result.outcome.value, 0) + 1
            await save_checkpoint(ctx, after, path, await uow.session.connection())
            await uow.commit()
        state.clear()
        state.update(after)
        await self._intake.join_after([(r.fixmedins_code, r.setl_id) for r in results
                                       if r.outcome not in (RecordOutcome.UNCHANGED, RecordOutcome.REFUSED)])
        return results
