"""The stream consumer against a real feed server on loopback with authentication on: resume after broken and
expired streams, exactly once and in order, back-pressure, errors that must not be retried, following."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from pydantic import SecretStr

from libs.common.grpc.client import open_channel
from libs.common.grpc.server import RunningServer, ServiceSpec, start_server
from libs.common.grpc.streams import StreamConsumer
from libs.common.runtime import Runtime

TOKEN = "feed-token"
METHOD = "/medpay.test.Feed/StreamEvents"


@dataclass
class Feed:
    """A feed of events 1..total (JSON), each stream after the cursor the request names."""

    total: int
    break_every: int = 0          # abort with UNAVAILABLE after this many events of one stream
    delay: float = 0.0            # seconds before each event
    payload: int = 0              # bytes of padding per event
    sent: int = 0
    calls: list[tuple[int, str]] = field(default_factory=list)

    async def stream(self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[bytes]:
        after = json.loads(request)["after"]
        self.calls.append((after, dict(context.invocation_metadata() or ()).get("authorization", "")))
        for n, sequence in enumerate(range(after + 1, self.total + 1), start=1):
            if self.break_every and n > self.break_every:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "the feed's pod went away")
            if self.delay:
                await asyncio.sleep(self.delay)
            self.sent += 1
            yield json.dumps({"sequence": sequence, "pad": "x" * self.payload}).encode()


async def serve(feed: Feed, runtime: Runtime) -> RunningServer:
    def register(server: grpc.aio.Server) -> None:
        handler = grpc.unary_stream_rpc_method_handler(feed.stream)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "medpay.test.Feed", {"StreamEvents": handler}),))

    settings = runtime.settings.model_copy(update={"auth_token": SecretStr(TOKEN)})
    return await start_server(ServiceSpec("feed", register, ["medpay.test.Feed"]), settings, "127.0.0.1:0")


def consumer(channel: grpc.aio.Channel, after: int = 0, **options: Any) -> StreamConsumer[dict[str, Any]]:
    call = channel.unary_stream(METHOD, response_deserializer=json.loads)

    def open_stream(cursor: int, timeout: float) -> Any:
        return call(json.dumps({"after": cursor}).encode(), timeout=timeout)

    options.setdefault("initial_backoff", 0.01)
    return StreamConsumer(open_stream, cursor_of=lambda e: e["sequence"], after=after, **options)


async def test_broken_streams_resume_from_the_cursor_exactly_once(runtime: Runtime) -> None:
    feed = Feed(total=50, break_every=7)
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            follower = consumer(channel, after=3)
            sequences = [e["sequence"] async for e in follower]
    finally:
        await running.stop()
    assert sequences == list(range(4, 51))
    assert follower.cursor == 50 and follower.streams_opened == len(feed.calls) == 7
    assert [after for after, _ in feed.calls] == [3, 10, 17, 24, 31, 38, 45]
    assert {auth for _, auth in feed.calls} == {f"Bearer {TOKEN}"}


async def test_a_stream_that_outlives_its_deadline_is_reopened(runtime: Runtime) -> None:
    feed = Feed(total=12, delay=0.1)
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            follower = consumer(channel, stream_deadline=0.35)
            sequences = [e["sequence"] async for e in follower]
    finally:
        await running.stop()
    assert sequences == list(range(1, 13)) and follower.streams_opened >= 4


async def test_batches_carry_their_cursor(runtime: Runtime) -> None:
    feed = Feed(total=25)
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            follower = consumer(channel)
            seen = []
            async for batch in follower.batches(max_items=10):
                seen.append(([e["sequence"] for e in batch], follower.cursor))
    finally:
        await running.stop()
    assert [len(b) for b, _ in seen] == [10, 10, 5]
    assert [cursor for _, cursor in seen] == [10, 20, 25] and [n for b, _ in seen for n in b] == list(range(1, 26))


async def test_a_slow_consumer_holds_the_server_back(runtime: Runtime) -> None:
    feed = Feed(total=300, payload=100_000)  # 30 MB in all: far more than gRPC's flow-control windows
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            follower = consumer(channel, queue_size=4)
            taken = 0
            async for _event in follower:
                taken += 1
                assert follower.received - follower.delivered <= 4 + 1  # the queue is bounded
                if taken == 20:
                    await asyncio.sleep(0.5)  # a slow step: the server must wait for us
                    ahead = feed.sent - taken
                    break
    finally:
        await running.stop()
    assert ahead < 150, f"the server ran {ahead} events ahead of a stopped consumer"


async def test_errors_that_are_not_transient_reach_the_consumer(runtime: Runtime) -> None:
    feed = Feed(total=5)
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as no_token:  # no credentials: not retried
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                [e async for e in consumer(no_token)]
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            bad = StreamConsumer(lambda after, timeout: channel.unary_stream(METHOD)(b"not json", timeout=timeout),
                                 cursor_of=lambda e: e, after=0)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                [e async for e in bad]
            assert caught.value.code() is grpc.StatusCode.INTERNAL  # a server failure is not retried
    finally:
        await running.stop()
    assert len(feed.calls) == 0  # the unauthenticated call never reached the handler


async def test_following_picks_up_new_events(runtime: Runtime) -> None:
    feed = Feed(total=3)
    running = await serve(feed, runtime)
    try:
        async with open_channel(f"127.0.0.1:{running.port}", token=TOKEN) as channel:
            follower = consumer(channel, follow=True, poll_seconds=0.05)
            sequences = []
            async for event in follower:
                sequences.append(event["sequence"])
                if event["sequence"] == 3:
                    feed.total = 6  # new events appear after the consumer caught up
                if event["sequence"] == 6:
                    break
    finally:
        await running.stop()
    assert sequences == [1, 2, 3, 4, 5, 6]


async def test_an_as_of_read_that_breaks_is_read_again_and_each_case_arrives_once(runtime: Runtime) -> None:
    """libs.common.grpc.case_feed.as_of_cases: StreamCases of a pinned sequence breaks after two messages per
    stream; the read opens it again, skips what it handed over, and yields every case once, in order."""
    from medpay.collection.v1 import collection_service_pb2 as cpb
    from medpay.collection.v1 import collection_service_pb2_grpc as cgrpc

    from libs.common.grpc.case_feed import as_of_cases

    ids = [f"L{n:03d}" for n in range(1, 26)]
    calls: list[int] = []

    async def stream_cases(request: cpb.StreamCasesRequest,
                           context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[cpb.StreamCasesResponse]:
        calls.append(request.as_of_sequence)
        for n, start in enumerate(range(0, len(ids), 4), start=1):
            if n > 2 and len(calls) < 4:  # the first three streams break after two messages
                await context.abort(grpc.StatusCode.UNAVAILABLE, "collection's pod went away")
            yield cpb.StreamCasesResponse(as_of_sequence=request.as_of_sequence, cases=[
                cpb.Case(setl_list_id=i) for i in ids[start:start + 4]])

    def register(server: grpc.aio.Server) -> None:
        handler = grpc.unary_stream_rpc_method_handler(
            stream_cases, request_deserializer=cpb.StreamCasesRequest.FromString,
            response_serializer=cpb.StreamCasesResponse.SerializeToString)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "medpay.collection.v1.CollectionService", {"StreamCases": handler}),))

    running = await start_server(ServiceSpec("collection", register, ["medpay.collection.v1.CollectionService"]),
                                 runtime.settings, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = cgrpc.CollectionServiceStub(channel)
            read = [(at, [c.setl_list_id for c in cases]) async for at, cases in as_of_cases(
                stub, cpb.StreamCasesRequest(region="330700", as_of_sequence=41), 30.0)]
    finally:
        await running.stop()
    assert [i for _, chunk in read for i in chunk] == ids and {at for at, _ in read} == {41}
    assert calls == [41, 41, 41, 41]
