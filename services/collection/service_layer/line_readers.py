"""The cyclic garbage collector during a bulk import, and the thread that reads this process's chunks.

A chunk is hundreds of thousands of acyclic objects (parsed lists, their rows), freed by reference counting,
which the collector's generations otherwise scan again and again (measured: a quarter of the parsing's CPU).
Reading a chunk (JSON, the envelope, the dialect normaliser, the input limits) runs in one thread of this
process: it holds the interpreter lock, but the event loop still gets it between switch intervals, so the
previous chunk's statements go on in PostgreSQL while the next chunk is read.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

_THRESHOLDS = (200_000, 20, 1000)
"""The cyclic collector's thresholds during an import: a young collection every 200,000 net allocations (not
700), an old one almost never."""


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The cyclic garbage collector held back while an import runs. What exists before is frozen out of its
    scans; the thresholds are restored after the last of the imports running in this process ends."""
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

SWITCH_SECONDS = 0.001
"""How long the reader thread holds the interpreter lock while the event loop waits for it, during an import
(Python's default: 5 ms). The loop writes the previous chunks meanwhile: a write is a few dozen steps, each
waiting up to that long for the lock (benchmark, 20,000 lists: 8.2-10.0 s against 9.1-10.7 s, alternating)."""


@contextlib.contextmanager
def responsive_loop() -> Iterator[None]:
    """The interpreter lock handed between threads every ``SWITCH_SECONDS`` while an import runs."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_SECONDS))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def freeze_collector() -> None:
    """A worker process's collector, as ``few_collections`` holds this one's, for the process's life (it only
    prepares chunks)."""
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
