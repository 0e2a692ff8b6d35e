"""Following another service's server stream: one service reading a feed of another (settlement, evaluation,
review and DIP reading collection's case feed) with a deadline per stream, the bearer token, resume from a
cursor after a broken or expired stream, and back-pressure.

    channel = open_service_channel(runtime.settings, "collection")       # deadline + token on streams too
    stub = collection_grpc.CollectionServiceStub(channel)
    feed = StreamConsumer(
        lambda after, timeout: stub.StreamCaseEvents(
            collection_pb.StreamCaseEventsRequest(region="330700", after_sequence=after), timeout=timeout),
        cursor_of=lambda event: event.sequence,
        after=checkpoint or 0)                                             # resume where the last run stopped
    async for batch in feed.batches(max_items=1000):
        await store(batch)
        await ctx.save(feed.cursor)                                        # the run framework's checkpoint

The server must send events in increasing cursor order and resume strictly after the cursor it is given.
Each stream call gets ``stream_deadline`` seconds; when it runs out (DEADLINE_EXCEEDED) or the stream breaks
(UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED, CANCELLED by the server), the consumer opens a new stream
after the last event it received, with exponential backoff for failures, and gives up (raising the last
error) after ``give_up_seconds`` without a single event. Other errors (UNAUTHENTICATED, INVALID_ARGUMENT,
INTERNAL, ...) are raised at once. Events arrive exactly once and in order: a replayed event at or before the cursor is
dropped. Received events wait in a queue of ``queue_size``; when the consumer is slower, the queue fills,
reading from the stream stops, and gRPC's flow control holds the server back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from typing import Any, Generic, TypeVar

import grpc

log = logging.getLogger("medpay.streams")

E = TypeVar("E")

RESUMABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
                       grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED})
"""Codes after which the stream is opened again from the cursor; any other code (INTERNAL too: a server failing
on the same cursor would fail again) is the consumer's error."""

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class StreamConsumer(Generic[E]):
    """Iterate it (``async for event in consumer``) or read batches (``consumer.batches()``); ``cursor`` is the
    cursor of the last event handed to the consumer, the value to checkpoint."""

    def __init__(self, open_stream: Callable[[Any, float], AsyncIterable[E]], cursor_of: Callable[[E], Any],
                 after: Any, *, queue_size: int = 256, stream_deadline: float = 300.0, follow: bool = False,
                 poll_seconds: float = 1.0, give_up_seconds: float = 300.0, initial_backoff: float = 0.1,
                 max_backoff: float = 5.0, resumable: frozenset[grpc.StatusCode] = RESUMABLE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._open = open_stream
        self._cursor_of = cursor_of
        self.cursor: Any = after
        self._read_cursor: Any = after
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._deadline = stream_deadline
        self._follow = follow
        self._poll = poll_seconds
        self._give_up = give_up_seconds
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._resumable = resumable
        self.received = 0
        """Events taken from the stream (delivered or waiting in the queue)."""
        self.delivered = 0
        self.streams_opened = 0
        self._started = False

    def __aiter__(self) -> AsyncIterator[E]:
        return self._events()

    async def _events(self) -> AsyncIterator[E]:
        async for event in self._consume():
            self.cursor = self._cursor_of(event)
            yield event

    async def _consume(self) -> AsyncGenerator[E, None]:
        """The events in order (the producer fills the queue, this empties it)."""
        if self._started:
            raise RuntimeError("a StreamConsumer is iterated once; make a new one from its cursor")
        self._started = True
        producer = asyncio.create_task(self._produce())
        try:
            while True:
                item = await self._queue.get()
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                self.delivered += 1
                yield item
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def batches(self, max_items: int = 1000, max_wait: float = 0.5) -> AsyncIterator[list[E]]:
        """Events in lists of up to ``max_items``, a list handed over early when no further event came within
        ``max_wait`` seconds. While a list is handled, ``cursor`` is the cursor of its last event."""
        events = self._consume()
        batch: list[E] = []
        upcoming: asyncio.Future[E] | None = None
        try:
            while True:
                if upcoming is None:
                    upcoming = asyncio.ensure_future(anext(events))
                if batch:
                    done, _ = await asyncio.wait({upcoming}, timeout=max_wait)
                    if not done:
                        yield self._handing_over(batch)
                        batch = []
                        continue
                try:
                    event = await upcoming
                except StopAsyncIteration:
                    upcoming = None
                    if batch:
                        yield self._handing_over(batch)
                    return
                upcoming = None
                batch.append(event)
                if len(batch) >= max_items:
                    yield self._handing_over(batch)
                    batch = []
        finally:
            if upcoming is not None:
                upcoming.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await upcoming
            await events.aclose()

    def _handing_over(self, batch: list[E]) -> list[E]:
        self.cursor = self._cursor_of(batch[-1])
        return batch

    async def _produce(self) -> None:
        backoff = self._initial_backoff
        failing_since: float | None = None
        while True:
            try:
                self.streams_opened += 1
                async for event in self._open(self._read_cursor, self._deadline):
                    cursor = self._cursor_of(event)
                    if self._read_cursor is not None and cursor <= self._read_cursor:
                        continue  # a replay of what we already have
                    await self._queue.put(event)  # blocks while the consumer is behind: back-pressure
                    self._read_cursor = cursor
                    self.received += 1
                    backoff, failing_since = self._initial_backoff, None
                if not self._follow:
                    await self._queue.put(_END)
                    return
                await asyncio.sleep(self._poll)  # caught up: look again for new events
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as broken:
                code = broken.code()
                if code not in self._resumable:
                    await self._queue.put(_Failed(broken))
                    return
                if code is grpc.StatusCode.DEADLINE_EXCEEDED:
                    log.debug("stream deadline reached after cursor %s; reopening", self._read_cursor)
                    continue  # the planned end of one stream call: reopen at once from the cursor
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > self._give_up:
                    await self._queue.put(_Failed(broken))
                    return
                log.warning("stream broke (%s: %s) after cursor %s; reopening in %.1fs", code.name,
                            broken.details(), self._read_cursor, backoff)
                await asyncio.sleep(backoff * (0.5 + random.random()))  # jittered
                backoff = min(backoff * 2, self._max_backoff)
            except Exception as failed:  # the opener or cursor_of failed: the consumer's problem
                await self._queue.put(_Failed(failed))
                return
