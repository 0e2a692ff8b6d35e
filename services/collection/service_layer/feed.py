"""Reading the case feed: events from a cursor (optionally following new ones), and cases as of a sequence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

from libs.common.errors import InvalidArgument

from ..adapters import feed
from ..domain.feed import EventPage, FeedCase
from .queries import check_period, check_region
from .unit_of_work import CollectionUnitOfWork

CHUNK = 1000
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 5.0


class CaseFeed:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], *, poll_seconds: float = POLL_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self._new_uow = new_uow
        self._poll = poll_seconds
        self._heartbeat = heartbeat_seconds

    async def publish(self) -> int:
        """Number what is committed and not yet numbered; returns the head."""
        async with self._new_uow() as uow:
            while await feed.publish(uow.session) == feed.PUBLISH_BATCH:
                await uow.commit()
                await uow.session.begin()
            head = await feed.head(uow.session)
            await uow.commit()
        return head

    async def events(self, region: str, after: int, periods: Sequence[str] = (), *,
                     follow: bool = False) -> AsyncIterator[EventPage]:
        """Pages of the region's events after ``after``, up to the head published at the start; with ``follow``,
        then each new batch as it is published (an empty page with the cursor every heartbeat), forever."""
        check_region(region)
        for i, period in enumerate(periods):
            check_period(period, f"settlement_periods[{i}]")
        if after < 0:
            raise InvalidArgument.field("after_sequence", "must not be negative")
        cursor = after
        quiet_since = time.monotonic()
        while True:
            head = await self.publish()
            async for page in self._pages(region, cursor, head, periods):
                cursor = page.resume_after
                if page.events or not follow:
                    quiet_since = time.monotonic()
                    yield page
            if not follow:
                return
            if time.monotonic() - quiet_since >= self._heartbeat:
                quiet_since = time.monotonic()
                yield EventPage((), cursor, head)
            await asyncio.sleep(self._poll)

    async def _pages(self, region: str, after: int, head: int, periods: Sequence[str]) -> AsyncIterator[EventPage]:
        cursor = after
        while True:
            async with self._new_uow() as uow:
                found = await feed.events(uow.session, region, after=cursor, upto=head, periods=periods, limit=CHUNK)
            done = len(found) < CHUNK
            cursor = head if done else found[-1].sequence
            yield EventPage(tuple(found), max(cursor, after), head)
            if done:
                return

    async def cases(self, region: str, periods: Sequence[str], as_of: int = 0) -> AsyncIterator[
            tuple[int, list[FeedCase]]]:
        """(the sequence read at, a chunk of cases) for every list of the region and periods as of ``as_of``
        (0: the head now)."""
        check_region(region)
        if not periods:
            raise InvalidArgument.field("settlement_periods", "name at least one settlement period")
        for i, period in enumerate(periods):
            check_period(period, f"settlement_periods[{i}]")
        if as_of < 0:
            raise InvalidArgument.field("as_of_sequence", "must not be negative")
        head = await self.publish()
        if as_of > head:
            raise InvalidArgument(f"as_of_sequence {as_of} is beyond the feed's head {head}",
                                  reason="FEED_SEQUENCE_AHEAD", metadata={"field": "as_of_sequence",
                                                                          "head": str(head)})
        at = as_of or head
        after = 0
        while True:
            async with self._new_uow() as uow:
                last, found = await feed.cases_as_of(uow.session, region, periods, as_of=at, after_list=after,
                                                     limit=CHUNK)
            if not last:
                return
            if found:
                yield at, found
            after = last
