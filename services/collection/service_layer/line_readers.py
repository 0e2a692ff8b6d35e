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


def freeze_collector() -> None:
    """A worker process's collector, as ``few_collections`` holds this one's, for the process's life (it only
    prepares chunks)."""
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
