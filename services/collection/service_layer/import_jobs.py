"""Resumable, exactly-once file imports (lists and settlement records) as runs of the run framework.

A file import is a run (``collection.run``, libs/common/runs) of kind ``collection.import-lists`` or
``collection.import-records`` whose key is the SHA-256 of the file's whole content (not its name, size or first
bytes: a changed file of the same size is a new file). Each chunk is written together with the run's checkpoint
(the file line reached and the counts) in one transaction, so an interrupted import resumes after the last
committed chunk, a finished one is not run again, and the service's ``google.longrunning.Operations`` shows every
import with its progress. The command line executes the run itself (``Runs.run_here``) under a short lease:
started again after it was killed, it takes the run over once the dead process's lease ran out.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.errors import MedpayError
from libs.common.runs import JobKind, Run, RunContext, Runs, RunState, StartRun

from ..adapters import tables

IMPORT_LISTS = "collection.import-lists"
IMPORT_RECORDS = "collection.import-records"
DOMAIN = "collection.medpay"
LEASE_SECONDS = 10.0
"""How long a killed import holds its file: the next import of the file waits this long at most."""

Work = Callable[[RunContext, str], Awaitable[Mapping[str, int]]]
"""Imports the file from ``ctx.checkpoint`` (``{"lines": n, <counts>}``, None at first) on; given the file's
digest; returns the final counts (the run's result)."""


@dataclass(frozen=True)
class FileRun:
    """An import's run once it ended: ``already_done`` when the file had been imported before (nothing was
    done now), ``resumed_at`` the file line an interrupted earlier import had reached."""

    run: Run
    already_done: bool
    resumed_at: int

    @property
    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in (self.run.result or {}).items()}


class FileImports:
    """The file imports of the collection schema (the command line's; the service serves them as operations)."""

    def __init__(self, engine: AsyncEngine, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self._engine = engine
        self._lease = lease_seconds

    def operations(self) -> Runs:
        """The runs as the service's Operations serve them (read, wait, cancel; never executed there: the file
        is where the command line runs)."""
        return Runs(self._engine, tables.run, [], domain=DOMAIN)

    async def run(self, kind: str, path: Path, work: Work) -> FileRun:
        digest = file_digest(path)

        async def job(ctx: RunContext) -> Mapping[str, int]:
            return await work(ctx, digest)

        runs = Runs(self._engine, tables.run, [JobKind(kind, job)], domain=DOMAIN, lease_seconds=self._lease,
                    report_interval=1.0)
        start = StartRun(kind, run_key=digest, input_digest=digest, unit="lines")
        run, _ = await runs.store.create_or_get(start)
        if run.state is RunState.SUCCEEDED:
            return FileRun(run, already_done=True, resumed_at=0)
        if run.done:  # failed (e.g. an upstream service was down) or cancelled: started again, it resumes
            run = await runs.store.reopen(run.id, states=(RunState.FAILED, RunState.CANCELLED)) or run
        resumed_at = int((run.checkpoint or {}).get("lines", 0))
        ended = await runs.run_here(start)
        if ended.state is not RunState.SUCCEEDED:
            error = ended.error
            raise MedpayError(f"the import of {path} {ended.state.value.lower()} at line "
                              f"{int((ended.checkpoint or {}).get('lines', 0)):,}"
                              f"{f': {error.message}' if error else ''} ({ended.name}); run it again to resume",
                              reason=error.reason if error else "RUN_CANCELLED", metadata={"run": ended.name})
        return FileRun(ended, already_done=False, resumed_at=resumed_at)


def checkpoint_of(ctx: RunContext) -> dict[str, int]:
    """Where the run stands: ``{"lines": 0}`` at first."""
    return {k: int(v) for k, v in (ctx.checkpoint or {"lines": 0}).items()}


async def save_checkpoint(ctx: RunContext, state: Mapping[str, int], path: Path, connection: Any) -> None:
    """The chunk's checkpoint, in the chunk's own transaction (``connection``)."""
    await ctx.save(dict(state), done=state["lines"], message=str(path), connection=connection)


def file_digest(path: Path) -> str:
    """The SHA-256 of the file's content, read in 1 MiB blocks (about 0.1 s per 64 MB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def open_lines(path: Path) -> IO[bytes]:
    """The file, gunzipped on the fly when it ends in .gz (a context manager either way)."""
    return cast(IO[bytes], gzip.open(path, "rb")) if path.suffix == ".gz" else path.open("rb")


def numbered(f: IO[bytes], skip: int) -> Iterator[tuple[int, bytes]]:
    """(file line number from 1, line) of the non-blank lines after line ``skip``."""
    for number, line in enumerate(f, start=1):
        if number <= skip or line.isspace() or not line:  # (strip() would copy every 3 KB line)
            continue
        yield number, line


def chunks(lines: Iterator[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
