"""Reading an import file in worker processes, a few chunks ahead of the import.

Parsing a list (JSON, the envelope, the dialect normaliser, the input limits) is the heaviest part of a bulk
import; worker processes do it for the next chunks while this process checks, groups and writes the current one.
Workers are spawned (never forked from a process holding gRPC channels) and given only the lines; they return the
parsed lists. With no worker processes (two cores or fewer, where they only compete with PostgreSQL and grouping
for the cores) one thread of this process reads a chunk ahead: parsing holds the interpreter lock, but the event
loop still gets it between switch intervals, so the previous chunk's statements and the current chunk's coding
and grouping calls go on in their servers while the next chunk is parsed (before, parsing stopped the loop and
the database and grouping waited for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType

from ..domain.reading import ReadLine, read_lines

MAX_WORKERS = 4
_THRESHOLDS = (200_000, 20, 1000)
"""The cyclic collector's thresholds during an import: a young collection every 200,000 net allocations (not
700), an old one almost never."""


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The cyclic garbage collector held back while an import runs: a chunk is hundreds of thousands of acyclic
    objects (parsed lists, their rows), freed by reference counting, which the collector's generations otherwise
    scan again and again (measured: a quarter of the parsing's CPU, most of unpickling a chunk's parsed lists).
    What exists before is frozen out of its scans; the thresholds are restored after the last of the imports
    running in this process ends."""
    if not _held:
        gc.freeze()
        _held.append(gc.get_threshold())  # the thresholds to restore
        gc.set_threshold(*_THRESHOLDS)
    else:
        _held.append(_THRESHOLDS)  # an import within another: the outermost restores
    try:
        yield
    finally:
        gc.set_threshold(*_held.pop())
        if not _held:
            gc.unfreeze()


_held: list[tuple[int, ...]] = []
"""The thresholds each running import found (the first: the process's own)."""


def _reader_started() -> None:
    """A reader process's collector, as ``few_collections`` holds this one's (the process only parses)."""
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)


def default_workers() -> int:
    """Readers on the cores the rest of an import leaves (this process, PostgreSQL, grouping): none on a
    machine of two cores or fewer, where they only compete (measured: slower), else up to four."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(MAX_WORKERS, cores - 2)


class LineReaders:
    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: Executor | None = None
        self.waited = 0.0
        """Seconds the import waited for read chunks (reading is otherwise hidden behind the rest)."""

    def __enter__(self) -> LineReaders:
        if self._workers > 0:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_reader_started)
        else:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="import-reader")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def read(self, batches: Iterator[list[tuple[int, bytes]]], digest: str) -> AsyncIterator[list[ReadLine]]:
        """The chunks, read, in file order."""
        assert self._pool is not None, "LineReaders is a context manager"
        loop = asyncio.get_running_loop()
        ahead: deque[asyncio.Future[list[ReadLine]]] = deque()
        for batch in batches:
            ahead.append(loop.run_in_executor(self._pool, read_lines, batch, digest))
            if len(ahead) > max(self._workers, 1):
                yield await self._next(ahead)
        while ahead:
            yield await self._next(ahead)

    async def _next(self, ahead: deque[asyncio.Future[list[ReadLine]]]) -> list[ReadLine]:
        clock = time.perf_counter()
        read = await ahead.popleft()
        self.waited += time.perf_counter() - clock
        return read
