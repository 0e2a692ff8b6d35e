"""What the service layer needs of collection's case feed (``adapters/collection_feed.py`` provides it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from libs.common.dates import Period
from libs.common.errors import InvalidArgument

from ..domain.collected import CollectedCase


class CaseFeed(Protocol):
    async def head(self) -> int: ...

    def cases(self, region: str, periods: Sequence[Period], sequence: int) -> AsyncIterator[list[CollectedCase]]:
        ...


async def pin_sequence(feed: CaseFeed, requested: int, field: str) -> int:
    """The sequence a run reads at: the one asked for (not beyond the head), or the head now."""
    if requested < 0:
        raise InvalidArgument.field(field, "must not be negative")
    head = await feed.head()
    if requested > head:
        raise InvalidArgument(f"{field} {requested} is beyond the case feed's head {head}",
                              reason="FEED_SEQUENCE_AHEAD", metadata={"field": field, "head": str(head)})
    return requested or head
