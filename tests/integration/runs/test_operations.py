"""google.longrunning.Operations over the runs of two schemas, on a real gRPC server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from medpay.common.v1 import common_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.grpc.client import open_channel
from libs.common.grpc.server import ServiceSpec, start_server
from libs.common.runs import JobKind, RunContext, Runs, StartRun
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime

from ...e2e.rpc_errors import error_info
from .support import KIND, chunk_job, runs_table, second_runs_table


@pytest.fixture
async def served(clean: AsyncEngine, runtime: Runtime) -> AsyncIterator[tuple[Runs, Runs, Any]]:
    gate = asyncio.Event()

    async def gated(ctx: RunContext) -> dict[str, str]:
        while not gate.is_set():
            await ctx.report(0, message="waiting for the gate", force=True)
            await asyncio.sleep(0.05)
        return {"opened": "yes"}

    first = Runs(clean, runs_table, [JobKind(KIND, chunk_job(clean))], domain="a.medpay", lease_seconds=5)
    second = Runs(clean, second_runs_table, [JobKind("b.gated", gated)], domain="b.medpay", lease_seconds=5)
    spec = ServiceSpec("ops", lambda server: add_operations(server, first, second), [OPERATIONS_SERVICE],
                       first.open, first.close)
    running = await start_server(spec, runtime.settings, "127.0.0.1:0")
    await second.open()
    channel = open_channel(f"127.0.0.1:{running.port}")
    yield first, second, (operations_pb2_grpc.OperationsStub(channel), gate)
    await channel.close()
    await second.close()
    await running.stop()


async def test_get_list_wait_and_cancel(served: tuple[Runs, Runs, Any]) -> None:
    first, second, (stub, gate) = served
    done_runs = [await first.run_here(StartRun(KIND, f"k{i}", {"chunks": 1})) for i in range(3)]
    gated = await second.start(StartRun("b.gated", "gate-1"))

    got = await stub.GetOperation(operations_pb2.GetOperationRequest(name=done_runs[0].name))
    response = common_pb2.Run()
    assert got.done and got.response.Unpack(response) and response.run_key == "k0"

    pending = await stub.WaitOperation(operations_pb2.WaitOperationRequest(
        name=gated.name, timeout=Duration(nanos=300_000_000)))
    meta = common_pb2.Run()
    assert not pending.done and pending.metadata.Unpack(meta) and meta.state == common_pb2.RUN_STATE_RUNNING

    names, token = [], ""
    while True:  # newest first, across both schemas, two per page
        page = await stub.ListOperations(operations_pb2.ListOperationsRequest(
            name="operations", page_size=2, page_token=token))
        names += [op.name for op in page.operations]
        token = page.next_page_token
        if not token:
            break
    assert names == [gated.name] + [r.name for r in reversed(done_runs)]
    unfinished = await stub.ListOperations(operations_pb2.ListOperationsRequest(filter="done = false"))
    assert [op.name for op in unfinished.operations] == [gated.name]
    by_kind = await stub.ListOperations(operations_pb2.ListOperationsRequest(
        filter=f'kind = "{KIND}" AND run_key = "k1" AND state = SUCCEEDED'))
    assert [op.name for op in by_kind.operations] == [done_runs[1].name]

    gate.set()
    finished = await stub.WaitOperation(operations_pb2.WaitOperationRequest(name=gated.name), timeout=20)
    result = common_pb2.Run()
    assert finished.done and finished.response.Unpack(result) and result.result_json == '{"opened":"yes"}'

    gate.clear()
    again = await second.start(StartRun("b.gated", "gate-2"))
    await stub.CancelOperation(operations_pb2.CancelOperationRequest(name=again.name))
    cancelled = await stub.WaitOperation(operations_pb2.WaitOperationRequest(name=again.name), timeout=20)
    assert cancelled.done and cancelled.error.code == grpc.StatusCode.CANCELLED.value[0]


@pytest.mark.parametrize(("call", "code", "reason"), [
    (lambda s: s.GetOperation(operations_pb2.GetOperationRequest(name="runs/1")), "INVALID_ARGUMENT",
     "INVALID_FIELD"),
    (lambda s: s.GetOperation(operations_pb2.GetOperationRequest(name="operations/" + "0" * 32)), "NOT_FOUND",
     "OPERATION_NOT_FOUND"),
    (lambda s: s.ListOperations(operations_pb2.ListOperationsRequest(filter="owner = me")), "INVALID_ARGUMENT",
     "INVALID_FILTER"),
    (lambda s: s.ListOperations(operations_pb2.ListOperationsRequest(page_token="forged")), "INVALID_ARGUMENT",
     "INVALID_PAGE_TOKEN"),
    (lambda s: s.DeleteOperation(operations_pb2.DeleteOperationRequest(name="operations/" + "0" * 32)),
     "UNIMPLEMENTED", "OPERATION_DELETE_UNSUPPORTED"),
])
async def test_errors_carry_their_reasons(served: tuple[Runs, Runs, Any], call: Any, code: str,
                                          reason: str) -> None:
    stub = served[2][0]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub)
    assert caught.value.code().name == code
    assert error_info(caught.value)[0].reason == reason
