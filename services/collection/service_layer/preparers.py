"""Preparing a bulk import's chunks on every core: here, and in worker processes that do all of a chunk's work
short of writing it.

Preparing a chunk (reading its lines, meeting the records already stored, quality control, grouping, building
its rows) is almost all of an import's CPU, and it runs under one interpreter lock; the writing (COPY and a few
set-based statements) is PostgreSQL's. A worker process prepares whole chunks itself, with its own connections
to the database and to the coding and grouping services, and hands back only the finished rows: plain tuples of
texts and numbers, which cross the process boundary at a few microseconds a list (the parsed lists themselves,
dataclasses and nested dictionaries, cost more to pickle than to parse again). Chunks are still written here,
one after the other in file order, each with its checkpoint: exactly-once and resume are the writer's and do
not change.

This process prepares chunks too: the first few (a spawned worker starts in a second or more, and the writes
must not wait for it), and whenever the chunk to be written next is still in a worker's hands. So the work
balances itself: a busy writer prepares less, a worker behind is caught up with.

The command line forks its workers before it connects to anything (``ChunkWorkers``): a forked worker has the
importer's modules already and starts in milliseconds, where a spawned one spends a second of CPU importing
them, on the cores the import runs on. Elsewhere (an import run from within a service or a test, whose process
has gRPC's threads) they are spawned as the import begins, while the file's digest is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

from libs.common.config import Settings

log = logging.getLogger(__name__)
Batch = list[tuple[int, bytes]]
Prepared = TypeVar("Prepared")

LOCAL_FIRST = 3
"""Chunks this process prepares before the workers' first when they are spawned: a spawned worker starts in a
second or two (more while this process and PostgreSQL are busy), and the chunks after the first must not wait
for it to be written. Forked workers start at once and are given the first chunks."""
LOCAL_AHEAD = 3
"""Chunks this process prepares ahead of the one a worker still holds (they wait, prepared, for their turn)."""
WORKER_AHEAD = 2
"""Chunks each worker is given ahead (one prepared while the other waits to be sent)."""
MIN_WORKER_BYTES = 16 << 20
"""Files smaller than this are prepared here alone when workers would be spawned: a spawned worker's start (a
second of imports and connections) would cost more than it saves."""
MIN_FORKED_WORKER_BYTES = 1 << 20
"""The same for forked workers, which start in about 30 ms of CPU (their connections): about 300 lists."""
MAX_WORKERS = 4
WORKER_NICENESS = 10
"""How much lower a worker's scheduling priority is than the importing process's. The writes (this process and
its database backend, one chunk after the other in file order) are the import's critical path; prepared chunks
wait in the queue for them, so the workers are best given what CPU the writes leave (benchmark, 20,000 lists,
two forked workers: median 8.04 s against 8.38 s unniced, three runs each, interleaved)."""


def default_workers(path: Path) -> int:
    """Worker processes for importing the file: none for a small file (smaller still where they can be forked:
    ``can_fork``); else, forked, one per core (at most four: this process mostly writes, and prepares a chunk
    only when the next to write is still a worker's), spawned, one per core beside this one (each costs a
    second of imports)."""
    forked = can_fork()
    if path.stat().st_size < (MIN_FORKED_WORKER_BYTES if forked else MIN_WORKER_BYTES):
        return 0
    cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores if forked else cores - 1))


def lower_priority() -> None:
    """This worker process at ``WORKER_NICENESS`` below its parent (where the system allows)."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


class WorkerUnavailable(Exception):
    """A worker process could not make ready to prepare chunks (its database or services unreachable): the
    import goes on without the workers, as when one cannot start."""


@dataclass
class _Done(Generic[Prepared]):
    prepared: Prepared


@dataclass
class _Raw:
    batch: Batch


@dataclass
class _Remote:
    answer: asyncio.Future[Any]
    batch: Batch  # prepared here after all, should the worker fail


class ChunkWorkers:
    """Worker processes that prepare chunks: ``count`` of them, for an import with ``settings``.

    Forked where that is safe (``can_fork``: this process runs one thread, and no event loop): a forked worker
    has this process's modules already, and starts in milliseconds where a spawned one spends a second of CPU
    (the cores the import runs on) importing them again. The command line starts its workers so, before it opens
    a connection or a channel; elsewhere (gRPC's threads already run, which a fork would not carry over) they are
    spawned. A worker builds its connections at its first chunk (``chunk_worker.prepare``)."""

    def __init__(self, count: int, settings: Settings, *, start: Callable[[int], None]) -> None:
        self.count = count
        self.settings = settings
        self.forked = can_fork()
        context = multiprocessing.get_context("fork" if self.forked else "spawn")
        self._pool: Executor | None = None
        if count > 0:
            self._pool = ProcessPoolExecutor(count, mp_context=context, initializer=start, initargs=(os.getpid(),))
            with _frozen_for_fork() if self.forked else contextlib.nullcontext():
                for _ in range(count):  # started now (a pool starts its processes at its first tasks)
                    self._pool.submit(os.getpid)

    def __enter__(self) -> ChunkWorkers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close(wait=error is None)

    def close(self, *, wait: bool) -> None:
        """Ended: joined when ``wait`` (nothing left running), else left to end by itself."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    @property
    def pool(self) -> Executor | None:
        """The processes, None once closed (or given up)."""
        return self._pool


def can_fork() -> bool:
    """Whether a worker can be forked from this process: it runs one thread (no gRPC threads, no exporter's,
    whose state a fork would copy half-made) and no event loop (the child's would seem to run), on Linux."""
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return False
    if threads != 1:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


@contextlib.contextmanager
def _frozen_for_fork() -> Iterator[None]:
    """This process's objects kept out of the collector while the workers fork: a collection in a child would
    touch, and so copy, every page of them (CPython's advice for pre-forked workers)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Preparers(Generic[Prepared]):
    """Chunks prepared in file order, here (``local``) and in ``workers`` (``remote``, a function of a worker
    process, see ``services.collection.service_layer.chunk_worker``, called with ``context`` and the chunk),
    whose answers ``decode`` turns back into what ``local`` returns."""

    def __init__(self, workers: ChunkWorkers | None, *,
                 local: Callable[[Batch, str], Awaitable[Prepared]],
                 remote: Callable[..., Any], decode: Callable[[Any], Prepared], context: Any = None) -> None:
        self._workers = workers
        self._first_here = LOCAL_FIRST if workers is not None and not workers.forked else 0
        self._local, self._remote, self._decode = local, remote, decode
        self._context = context
        self.waited = 0.0
        """Seconds spent waiting for a worker's chunk (nothing else left to prepare here)."""
        self.remote_chunks = 0
        """Chunks the workers prepared."""

    @property
    def _pool(self) -> Executor | None:
        """The workers' processes: None without workers, or once they are given up."""
        return self._workers.pool if self._workers is not None else None

    async def prepared(self, batches: Iterator[Batch], digest: str) -> AsyncIterator[Prepared]:
        """The chunks, prepared, in file order. Should the worker processes fail (one could not start, or was
        killed), the chunks they held are prepared here, as the rest."""
        loop = asyncio.get_running_loop()
        slots: deque[_Remote | _Done[Prepared] | _Raw] = deque()
        for _ in range(self._first_here if self._pool is not None else 1):  # here while spawned workers start
            batch = next(batches, None)
            if batch is None:
                break
            slots.append(_Raw(batch))

        def hand_out() -> None:
            workers = self._workers
            while workers is not None and workers.pool is not None and (
                    sum(isinstance(s, _Remote) for s in slots) < WORKER_AHEAD * workers.count):
                batch = next(batches, None)
                if batch is None:
                    return
                answer = loop.run_in_executor(workers.pool, self._remote, workers.settings, self._context,
                                              batch, digest)
                slots.append(_Remote(answer, batch))

        hand_out()
        while slots:
            head = slots[0]
            if isinstance(head, _Raw):
                slots.popleft()
                yield await self._local(head.batch, digest)
            elif isinstance(head, _Done):
                slots.popleft()
                yield head.prepared
            else:
                if not head.answer.done() and sum(isinstance(s, _Done) for s in slots) < LOCAL_AHEAD:
                    batch = next(batches, None)
                    if batch is not None:  # the worker is busy: prepare a later chunk here meanwhile
                        slots.append(_Done(await self._local(batch, digest)))
                        continue
                clock = time.perf_counter()
                try:
                    answer = await head.answer
                except (BrokenProcessPool, WorkerUnavailable) as broken:
                    self._give_up_workers(broken, slots)
                    continue
                finally:
                    self.waited += time.perf_counter() - clock
                slots.popleft()
                self.remote_chunks += 1
                yield self._decode(answer)
            if self._pool is None:
                batch = next(batches, None)
                if batch is not None:
                    slots.append(_Raw(batch))
            else:
                hand_out()

    def _give_up_workers(self, broken: Exception, slots: deque[_Remote | _Done[Prepared] | _Raw]) -> None:
        log.warning("bulk import: its worker processes failed (%s); the rest of the file is prepared here", broken)
        assert self._workers is not None
        self._workers.close(wait=False)
        for i, slot in enumerate(slots):
            if isinstance(slot, _Remote):
                slots[i] = _Raw(slot.batch)


def watch_parent(parent: int) -> None:
    """End this worker process when the process that started it is gone (killed, it cannot say so): a worker
    must not go on holding connections, or a chunk, for nobody."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
