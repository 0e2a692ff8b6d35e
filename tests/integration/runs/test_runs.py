"""The run framework on real PostgreSQL: idempotent start, checkpoints, failure, resume, cancellation, leases,
crash recovery of a killed process, and the table agreeing with its migration."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from medpay.common.v1 import common_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.errors import FailedPrecondition
from libs.common.runs import JobKind, RunContext, Runs, RunState, StartRun, digest
from libs.common.runs.model import RunKeyReused, RunLost

from ...support import ROOT
from .support import KIND, SCHEMA, chunk_done, chunk_job, metadata, runs_table


def make_runs(engine: AsyncEngine, *kinds: JobKind, **options: Any) -> Runs:
    options.setdefault("lease_seconds", 1.0)
    return Runs(engine, runs_table, kinds or [JobKind(KIND, chunk_job(engine))], domain="test.medpay", **options)


async def chunks_of(engine: AsyncEngine, run_id: str) -> list[tuple[int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(chunk_done.c.chunk, chunk_done.c.attempt)
                                  .where(chunk_done.c.run_id == run_id).order_by(chunk_done.c.chunk))
        return [(r.chunk, r.attempt) for r in rows]


async def progressed(runs: Runs, run_id: str, done: int) -> None:
    """Until the run has reported ``done`` units (polling the table, as another process would)."""
    async with asyncio.timeout(20):
        while (await runs.get(run_id)).progress.done < done:  # noqa: ASYNC110 - the state is in the database
            await asyncio.sleep(0.05)


async def test_the_table_agrees_with_its_migration(clean: AsyncEngine) -> None:
    def differences(sync: Any) -> list[Any]:
        context = MigrationContext.configure(sync, opts={
            "include_schemas": True, "include_name": lambda name, type_, parents: type_ != "schema"
            or name == SCHEMA, "include_object": lambda obj, name, type_, reflected, compare_to:
            name not in {"chunk_done", "alembic_version"}})
        return list(compare_metadata(context, metadata))

    async with clean.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_a_run_key_is_one_run_executed_once(clean: AsyncEngine) -> None:
    executed: list[str] = []

    async def job(ctx: RunContext) -> dict[str, Any]:
        executed.append(ctx.run.id)
        await ctx.report(1, total=1, unit="steps", message="done", force=True)
        return {"answer": "42.10"}

    runs = make_runs(clean, JobKind(KIND, job))
    start = StartRun(KIND, "330700/2026-03", {"region": "330700", "budget": "1000.50"},
                     input_digest=digest(b"cases", {"sequence": 7}), versions={"scheme": "chs-drg-1.1+abc"})
    first = await runs.start(start)
    second = await runs.start(start)  # before the first has finished
    done = await runs.wait(first.id, timeout=10)
    third = await runs.start(start)   # after
    assert first.id == second.id == third.id and executed == [first.id]
    assert done.state is RunState.SUCCEEDED and done.result == {"answer": "42.10"} and done.attempts == 1
    assert (done.progress.done, done.progress.total, done.progress.unit) == (1, 1, "steps")
    assert done.versions == {"scheme": "chs-drg-1.1+abc"} and done.input_digest == start.input_digest

    with pytest.raises(RunKeyReused) as refused:
        await runs.start(StartRun(KIND, "330700/2026-03", {"region": "330700", "budget": "1000.51"},
                                  input_digest=start.input_digest, versions=start.versions))
    assert refused.value.reason == "RUN_KEY_REUSED" and refused.value.code == "ALREADY_EXISTS"
    await runs.close()


async def test_operation_of_a_finished_and_a_failed_run(clean: AsyncEngine) -> None:
    async def refuse(ctx: RunContext) -> None:
        raise FailedPrecondition("no weights for 2026", reason="WEIGHTS_MISSING")

    runs = make_runs(clean, JobKind(KIND, chunk_job(clean)), JobKind("test.refuse", refuse))
    good = await runs.run_here(StartRun(KIND, "ok", {"chunks": 3}))
    bad = await runs.run_here(StartRun("test.refuse", "bad"))
    operation = runs.operation(good)
    response, meta = common_pb2.Run(), common_pb2.Run()
    assert operation.done and operation.response.Unpack(response) and operation.metadata.Unpack(meta)
    assert response.name == f"operations/{good.id}" and response.state == common_pb2.RUN_STATE_SUCCEEDED
    assert response.result_json == '{"chunks":3}' and response.parameters_json == '{"chunks":3}'
    assert response.progress.done == 3 and response.HasField("end_time")
    failed = runs.operation(bad)
    assert failed.done and failed.error.code == 9 and failed.error.message == "no weights for 2026"  # 9: precondition
    assert bad.state is RunState.FAILED and bad.error is not None and bad.error.reason == "WEIGHTS_MISSING"


async def test_a_failed_run_resumes_from_its_checkpoint(clean: AsyncEngine) -> None:
    runs = make_runs(clean, JobKind(KIND, chunk_job(clean, fail_at=3)))
    failed = await runs.run_here(StartRun(KIND, "flaky", {"chunks": 6}))
    assert failed.state is RunState.FAILED and failed.error is not None
    assert failed.error.code == "INTERNAL" and "chunk 3 broke" in failed.error.message
    assert failed.checkpoint == 3 and await chunks_of(clean, failed.id) == [(0, 1), (1, 1), (2, 1)]
    await runs.resume(failed.id)
    done = await runs.wait(failed.id, timeout=10)
    assert done.state is RunState.SUCCEEDED and done.checkpoint == 6
    assert await chunks_of(clean, failed.id) == [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 2)]
    with pytest.raises(Exception, match="only a failed run"):
        await runs.resume(failed.id)
    await runs.close()


async def test_cancellation_pending_and_running(clean: AsyncEngine) -> None:
    idle = make_runs(clean)
    waiting, _ = await idle.store.create_or_get(StartRun(KIND, "never-started", {"chunks": 2}))
    assert (await idle.cancel(waiting.id)).state is RunState.CANCELLED

    runs = make_runs(clean, JobKind(KIND, chunk_job(clean, delay=0.05)))
    run = await runs.start(StartRun(KIND, "long", {"chunks": 200}))
    await progressed(runs, run.id, 3)
    await runs.cancel(run.id)
    ended = await runs.wait(run.id, timeout=10)
    assert ended.state is RunState.CANCELLED and ended.error is not None and ended.error.code == "CANCELLED"
    chunks = await chunks_of(clean, run.id)
    assert 3 <= len(chunks) < 200
    assert ended.checkpoint == len(chunks) == ended.progress.done  # stopped at a checkpoint, consistently
    assert runs.operation(ended).error.code == 1  # google.rpc.Code.CANCELLED
    await runs.close()


async def test_a_graceful_stop_hands_the_run_to_the_next_executor(clean: AsyncEngine) -> None:
    first = make_runs(clean, JobKind(KIND, chunk_job(clean, delay=0.05)), lease_seconds=30)
    run = await first.start(StartRun(KIND, "handover", {"chunks": 30}))
    await progressed(first, run.id, 5)
    await first.close()
    released = await first.get(run.id)
    assert released.state is RunState.RUNNING and released.owner is None and released.attempts == 0
    second = make_runs(clean, JobKind(KIND, chunk_job(clean)), lease_seconds=30)
    await second.open()  # adopts it at once: no lease to wait for
    done = await second.wait(run.id, timeout=10)
    chunks = await chunks_of(clean, run.id)
    assert done.state is RunState.SUCCEEDED and [c for c, _ in chunks] == list(range(30))
    assert done.attempts == 1  # the interrupted attempt does not count
    await second.close()


async def test_a_stalled_executor_is_fenced_out(clean: AsyncEngine) -> None:
    stalled = make_runs(clean, lease_seconds=0.3)
    run, _ = await stalled.store.create_or_get(StartRun(KIND, "fenced", {"chunks": 4}))
    mine = await stalled.store.claim(run.id, "stalled-owner", 0.3)
    assert mine is not None
    await asyncio.sleep(0.5)  # its lease runs out while it "stalls"
    other = make_runs(clean)
    await other.open()
    done = await other.wait(run.id, timeout=10)
    assert done.state is RunState.SUCCEEDED and done.attempts == 2
    with pytest.raises(RunLost):
        await stalled.store.save(mine, None, checkpoint=1)
    with pytest.raises(RunLost):
        await stalled.store.finish(mine, RunState.FAILED)
    assert (await other.get(run.id)).state is RunState.SUCCEEDED
    await other.close()


async def test_runs_that_keep_dying_fail_after_max_attempts(clean: AsyncEngine) -> None:
    runs = make_runs(clean, JobKind(KIND, chunk_job(clean), max_attempts=2))
    run, _ = await runs.store.create_or_get(StartRun(KIND, "poison", {"chunks": 1}))
    for attempt in range(2):  # two executions that died without a word (lease 0: expired at once)
        assert await runs.store.claim(run.id, f"dead-{attempt}", 0) is not None
    await runs.open()
    ended = await runs.wait(run.id, timeout=10)
    assert ended.state is RunState.FAILED and ended.error is not None
    assert ended.error.reason == "RUN_ATTEMPTS_EXHAUSTED" and ended.attempts == 3
    await runs.close()


async def test_a_killed_process_is_resumed_from_its_checkpoint(clean: AsyncEngine, database_url: str) -> None:
    """SIGKILL a process in the middle of a run; another executor adopts the run when the lease runs out and
    finishes it: every chunk done exactly once, the later ones by the second attempt."""
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.runs.support", database_url, "killed", "12",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "MEDPAY_LOG_LEVEL": "WARNING"})
    assert worker.stdout is not None
    while True:
        line = (await asyncio.wait_for(worker.stdout.readline(), 60)).decode()
        assert line, "the worker ended before its fourth chunk"
        if line.strip() == "chunk 3":
            break
    worker.send_signal(signal.SIGKILL)
    await worker.wait()

    runs = make_runs(clean, poll_seconds=0.3)
    run = next(r for r in await runs.store.list_runs(limit=10) if r.run_key == "killed")
    assert run.state is RunState.RUNNING and run.owner is not None and run.checkpoint >= 4
    await runs.open()
    done = await runs.wait(run.id, timeout=30)
    chunks = await chunks_of(clean, run.id)
    assert done.state is RunState.SUCCEEDED and done.attempts == 2 and done.result == {"chunks": 12}
    assert [c for c, _ in chunks] == list(range(12))
    resumed_at = next(c for c, attempt in chunks if attempt == 2)
    assert resumed_at >= 4 and all(attempt == 1 for c, attempt in chunks if c < resumed_at)
    await runs.close()


async def test_run_here_takes_over_a_killed_executors_run_when_its_lease_runs_out(
        clean: AsyncEngine, database_url: str) -> None:
    """A command line started again after it was killed (no server adopts its run): ``run_here`` waits for the
    dead owner's lease to run out, then resumes from the checkpoint; every chunk is done once."""
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.runs.support", database_url, "rerun", "8",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "MEDPAY_LOG_LEVEL": "WARNING"})
    assert worker.stdout is not None
    while (await asyncio.wait_for(worker.stdout.readline(), 60)).decode().strip() != "chunk 2":
        pass
    worker.send_signal(signal.SIGKILL)
    await worker.wait()
    runs = make_runs(clean)
    done = await asyncio.wait_for(runs.run_here(StartRun(KIND, "rerun", {"chunks": 8})), 30)
    chunks = await chunks_of(clean, done.id)
    assert done.state is RunState.SUCCEEDED and done.attempts == 2
    assert [c for c, _ in chunks] == list(range(8)) and chunks[0][1] == 1 and chunks[-1][1] == 2
