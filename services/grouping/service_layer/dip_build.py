"""Building a DIP catalogue from base-year cases: from an uploaded history file or from collection's case feed.

The build itself is the pure ``CatalogueBuilder``; this module feeds it in chunks off the event loop (a build
of a million cases takes seconds of CPU, and grouping requests keep being served meanwhile) and reports
progress. Publishing the result is ``DipCatalogues.publish``.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Protocol

from libs.common.dates import Period

from ..adapters.dip_files import DipFileError, read_history
from ..domain.dip.build import CatalogueBuilder
from ..domain.dip.case import DipCase, ProcedureClasses
from ..domain.dip.catalogue import Catalogue
from ..domain.dip.scheme import CatalogueProvenance

CHUNK = 10_000
UPLOAD_NAME = "upload"
"""How an uploaded history names itself in error messages (``upload:LINE: problem``)."""

Progress = Callable[[int], Awaitable[None]]
"""Called with the number of cases read so far, after each chunk."""


@dataclass(frozen=True)
class FeedCases:
    """A chunk of collection's as-of read: the cases (active lists only) and the sequence they were read at."""

    cases: Sequence[tuple[DipCase, Decimal]]
    as_of_sequence: int


class CaseFeed(Protocol):
    """Collection's case feed as the build reads it (``adapters.collection_feed`` over gRPC)."""

    def cases(self, region: str, periods: Sequence[Period], as_of_sequence: int) -> AsyncIterator[FeedCases]: ...


async def build_from_upload(data: bytes, threshold: int, classes: ProcedureClasses,
                            progress: Progress | None = None) -> tuple[Catalogue, CatalogueProvenance]:
    """``data``: FORMAT.md's history JSON lines, plain or gzip-compressed. A bad line raises ``DipFileError``
    naming ``upload`` and the line."""
    builder = CatalogueBuilder(classes)
    history = read_history(_lines(data), UPLOAD_NAME)
    while await asyncio.to_thread(_add_some, builder, history):
        if progress is not None:
            await progress(builder.cases + builder.skipped)
    catalogue = builder.catalogue(threshold)
    return catalogue, CatalogueProvenance("upload", threshold, cases_read=builder.cases + builder.skipped,
                                          cases_skipped=builder.skipped)


async def build_from_feed(feed: CaseFeed, region: str, periods: Sequence[Period], threshold: int,
                          classes: ProcedureClasses, *, as_of_sequence: int = 0,
                          progress: Progress | None = None) -> tuple[Catalogue, CatalogueProvenance]:
    """The active cases of ``region`` and ``periods`` as of a feed sequence (0: the head when the read starts,
    pinned by collection so the whole read is one consistent state)."""
    builder = CatalogueBuilder(classes)
    pinned = as_of_sequence
    async for chunk in feed.cases(region, periods, as_of_sequence):
        pinned = chunk.as_of_sequence
        await asyncio.to_thread(builder.add_all, chunk.cases)
        if progress is not None:
            await progress(builder.cases + builder.skipped)
    catalogue = builder.catalogue(threshold)
    return catalogue, CatalogueProvenance("feed", threshold, tuple(str(p) for p in periods), pinned,
                                          builder.cases + builder.skipped, builder.skipped, f"region {region}")


def _add_some(builder: CatalogueBuilder, history: Iterator[tuple[DipCase, Decimal]]) -> bool:
    before = builder.cases + builder.skipped
    builder.add_all(islice(history, CHUNK))
    return builder.cases + builder.skipped > before


def _lines(data: bytes) -> Iterator[bytes]:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as bad:
            raise DipFileError(UPLOAD_NAME, 0, f"not a readable gzip file: {bad}") from None
    return iter(io.BytesIO(data))
