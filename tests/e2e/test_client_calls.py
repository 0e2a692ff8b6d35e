"""The client helper gives calls of all four kinds the deadline and the bearer token (a real server with
authentication on, on loopback): before it did so for unary calls only, and every stream was UNAUTHENTICATED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc
from pydantic import SecretStr

from libs.common.grpc.client import open_channel, open_service_channel
from libs.common.grpc.server import RunningServer, ServiceSpec, start_server
from libs.common.runtime import Runtime
from services.grouping.bootstrap import build_registry, service_spec

SERVICE = "medpay.test.Echo"
TOKEN = "t0ken"


def _seen(context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    """What the server saw of the call: the authorization header and the deadline left, as bytes."""
    metadata = dict(context.invocation_metadata() or ())
    remaining = context.time_remaining()
    return f"{metadata.get('authorization', '')}|{remaining if remaining is not None else 'none'}".encode()


async def unary_unary(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return _seen(context)


async def unary_stream(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[bytes]:
    for _ in range(3):
        yield _seen(context)


async def stream_unary(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    count = sum([1 async for _ in requests])
    return _seen(context) + f"|{count}".encode()


async def stream_stream(requests: AsyncIterator[bytes],
                        context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[bytes]:
    async for _ in requests:
        yield _seen(context)


def _register(server: grpc.aio.Server) -> None:
    handlers = {
        "UnaryUnary": grpc.unary_unary_rpc_method_handler(unary_unary),
        "UnaryStream": grpc.unary_stream_rpc_method_handler(unary_stream),
        "StreamUnary": grpc.stream_unary_rpc_method_handler(stream_unary),
        "StreamStream": grpc.stream_stream_rpc_method_handler(stream_stream),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
async def guarded(runtime: Runtime) -> AsyncIterator[RunningServer]:
    settings = runtime.settings.model_copy(update={"auth_token": SecretStr(TOKEN)})
    running = await start_server(ServiceSpec("echo", _register, [SERVICE]), settings, "127.0.0.1:0")
    yield running
    await running.stop()


async def _requests(n: int) -> AsyncIterator[bytes]:
    for i in range(n):
        yield str(i).encode()


async def _call_all_kinds(channel: grpc.aio.Channel) -> dict[str, list[bytes]]:
    path = f"/{SERVICE}/"
    return {
        "unary_unary": [await channel.unary_unary(path + "UnaryUnary")(b"x")],
        "unary_stream": [r async for r in channel.unary_stream(path + "UnaryStream")(b"x")],
        "stream_unary": [await channel.stream_unary(path + "StreamUnary")(_requests(4))],
        "stream_stream": [r async for r in channel.stream_stream(path + "StreamStream")(_requests(2))],
    }


async def test_all_four_call_kinds_carry_the_token_and_the_deadline(guarded: RunningServer) -> None:
    async with open_channel(f"127.0.0.1:{guarded.port}", token=TOKEN, deadline_seconds=20,
                            stream_deadline_seconds=40) as channel:
        seen = await _call_all_kinds(channel)
    assert {kind: len(replies) for kind, replies in seen.items()} == {
        "unary_unary": 1, "unary_stream": 3, "stream_unary": 1, "stream_stream": 2}
    assert seen["stream_unary"][0].endswith(b"|4")
    for kind, replies in seen.items():
        for reply in replies:
            authorization, remaining, *_ = reply.decode().split("|")
            assert authorization == f"Bearer {TOKEN}", kind
            limit = 20 if kind == "unary_unary" else 40  # the default for its kind
            assert limit - 5 < float(remaining) < limit + 1, (kind, remaining)  # clocks differ a little


async def test_a_deadline_the_caller_sets_is_kept(guarded: RunningServer) -> None:
    async with open_channel(f"127.0.0.1:{guarded.port}", token=TOKEN) as channel:
        replies = [r async for r in channel.unary_stream(f"/{SERVICE}/UnaryStream")(b"x", timeout=3)]
    assert all(float(r.decode().split("|")[1]) < 4 for r in replies)


async def test_without_the_token_every_kind_is_unauthenticated(guarded: RunningServer) -> None:
    async with open_channel(f"127.0.0.1:{guarded.port}") as channel:
        path = f"/{SERVICE}/"
        calls = [
            lambda: channel.unary_unary(path + "UnaryUnary")(b"x"),
            lambda: _drain(channel.unary_stream(path + "UnaryStream")(b"x")),
            lambda: channel.stream_unary(path + "StreamUnary")(_requests(1)),
            lambda: _drain(channel.stream_stream(path + "StreamStream")(_requests(1))),
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call()
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def _drain(call: Any) -> list[Any]:
    return [r async for r in call]


async def test_a_real_service_stream_with_medpay_auth_token(runtime: Runtime) -> None:
    """StreamGroupCases of the grouping service with MEDPAY_AUTH_TOKEN on both sides (the settings path)."""
    settings = runtime.settings.model_copy(update={"auth_token": SecretStr(TOKEN)})
    running = await start_server(service_spec(build_registry(runtime)), settings, "127.0.0.1:0")
    try:
        caller = settings.model_copy(update={"grouping_address": f"127.0.0.1:{running.port}"})
        async with open_service_channel(caller, "grouping") as channel:
            stub = pb_grpc.GroupingServiceStub(channel)
            scheme = (await stub.ListSchemes(pb.ListSchemesRequest())).schemes[0].name
            case = pb.GroupingCase(case_id="c1", sex=pb.SEX_MALE, age_years=60, diagnoses=["I21.001"])

            async def requests() -> AsyncIterator[pb.StreamGroupCasesRequest]:
                for _ in range(2):
                    yield pb.StreamGroupCasesRequest(scheme=scheme, cases=[case])

            replies = [reply async for reply in stub.StreamGroupCases(requests())]
        assert [r.results[0].case_id for r in replies] == ["c1", "c1"]
    finally:
        await running.stop()
