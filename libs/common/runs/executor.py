"""Executing runs: idempotent start, leases, checkpoints, resume after a crash or restart, cancellation.

A service builds one ``Runs`` per schema over its run table and the job kinds it offers, opens it when its
server starts (``ServiceSpec.on_start``) and closes it on drain (``on_stop``):

    async def settle(ctx: RunContext) -> dict[str, Any]:
        months = ctx.run.parameters["months"]
        start = ctx.checkpoint or 0                        # where an earlier attempt got to
        for index in range(start, len(months)):
            async with engine.begin() as conn:             # the job's writes and its checkpoint commit together
                await write_statements(conn, months[index])
                await ctx.save(index + 1, done=index + 1, total=len(months), connection=conn)
        return {"months": len(months)}                     # the run's result (JSON)

    runs = Runs(engine, tables.run, [JobKind("settlement.advance", settle)], domain="settlement.medpay")
    run = await runs.start(StartRun("settlement.advance", run_key="330700/2026-03", parameters={...},
                                    input_digest=digest(...), versions={"weights": "w-2026.1"}))
    operation = runs.operation(run)                        # google.longrunning.Operation for the RPC's answer

Guarantees: the same (kind, run_key) is one run, executed by one executor at a time (a lease renewed while it
runs; every write fenced by owner and attempt), resumed from its last checkpoint by any executor after its
owner died (lease expiry) or stopped (released at once), and failed after ``max_attempts`` executions that
ended without finishing. A job that raises ``MedpayError`` fails with its code and reason; any other exception
fails it with INTERNAL (the traceback goes to the log). Once a cancellation was asked for, the job's next
``save``/``report`` raises ``RunCancelled`` before writing anything; the run then ends CANCELLED at its last
checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..errors import MedpayError, NotFound
from .model import OPERATION_PREFIX, Progress, Run, RunCancelled, RunError, RunLost, RunState, StartRun
from .store import RunStore

if TYPE_CHECKING:
    from google.longrunning import operations_pb2
    from google.protobuf.message import Message

log = logging.getLogger("medpay.runs")

Job = Callable[["RunContext"], Awaitable[Any]]
"""A job: does the work of one run (resuming from ``ctx.checkpoint``), returns its result as JSON."""


@dataclass(frozen=True)
class JobKind:
    """A kind of run a service offers. ``metadata``/``response`` turn a run into the messages its operation
    carries (default: ``medpay.common.v1.Run`` for both)."""

    name: str
    job: Job
    metadata: Callable[[Run], Message] | None = None
    response: Callable[[Run], Message] | None = None
    max_attempts: int = 5


class RunContext:
    """What a job sees of its run: parameters, versions, its checkpoint, and the means to report."""

    def __init__(self, store: RunStore, run: Run, report_interval: float) -> None:
        self._store = store
        self.run = run
        self._progress = run.progress
        self._interval = report_interval
        self._reported = 0.0
        self.cancel_requested = run.cancel_requested
        self.lost = False

    @property
    def checkpoint(self) -> Any:
        """What the job saved last (``None`` on a first execution)."""
        return self.run.checkpoint

    @property
    def progress(self) -> Progress:
        return self._progress

    def _advance(self, done: int | None, total: int | None, message: str | None, unit: str | None) -> Progress:
        p = self._progress
        self._progress = Progress(p.done if done is None else done, p.total if total is None else total,
                                  p.unit if unit is None else unit, p.message if message is None else message)
        return self._progress

    async def report(self, done: int | None = None, *, total: int | None = None, message: str | None = None,
                     unit: str | None = None, force: bool = False) -> None:
        """Progress (stored at most every ``report_interval`` seconds unless ``force``). Raises ``RunCancelled``
        (before storing anything) once a cancellation was asked for."""
        self._check()
        progress = self._advance(done, total, message, unit)
        now = time.monotonic()
        if force or now - self._reported >= self._interval:
            self._reported = now
            self.cancel_requested = await self._store.save(self.run, progress) or self.cancel_requested

    async def save(self, checkpoint: Any, *, done: int | None = None, total: int | None = None,
                   message: str | None = None, connection: AsyncConnection | None = None) -> None:
        """Store the checkpoint (JSON) with the progress; on ``connection`` it commits with the job's own
        writes of that transaction, which is what makes a resumed run continue exactly where it stopped.

        Raises ``RunCancelled`` (before writing) once a cancellation was asked for: the job stops at a
        checkpoint, and what it committed so far stays consistent with it. Raises ``RunLost`` when another
        executor took the run over (the job's transaction must then roll back, which leaving the ``async with``
        by the exception does)."""
        self._check()
        progress = self._advance(done, total, message, None)
        self.cancel_requested = await self._store.save(self.run, progress, checkpoint,
                                                       connection) or self.cancel_requested
        self._reported = time.monotonic()
        self.run = _with_checkpoint(self.run, checkpoint)

    def _check(self) -> None:
        if self.cancel_requested:
            raise RunCancelled(self.run.id)


def _with_checkpoint(run: Run, checkpoint: Any) -> Run:
    return replace(run, checkpoint=checkpoint)


class Runs:
    """The runs of one service schema: start, execute, read, cancel, wait, and their operations."""

    def __init__(self, engine: AsyncEngine, table: Table, kinds: Iterable[JobKind], *, domain: str,
                 owner: str | None = None, lease_seconds: float = 30.0, concurrency: int = 2,
                 report_interval: float = 0.5, poll_seconds: float | None = None) -> None:
        self.store = RunStore(engine, table)
        self.kinds = {k.name: k for k in kinds}
        self.domain = domain
        self.owner = owner or f"{uuid.uuid4().hex[:12]}"
        self.lease_seconds = lease_seconds
        self._poll = poll_seconds if poll_seconds is not None else lease_seconds / 2
        self._report_interval = report_interval
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._finished: dict[str, asyncio.Event] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def open(self) -> None:
        """Adopt unfinished runs nobody holds now and whenever a lease runs out (every ``poll_seconds``)."""
        self._closing = False
        await self.adopt()
        self._watcher = asyncio.create_task(self._watch())

    async def close(self) -> None:
        """Stop executing: running jobs are interrupted and their runs released for another executor (or the
        next start of this service) to resume from their checkpoints."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.adopt()
            except Exception:  # the database may be briefly away; try again next round
                log.exception("adopting orphaned runs failed")

    async def adopt(self) -> list[str]:
        """Schedule every unfinished run of our kinds that nobody holds; returns their ids."""
        ids = [i for i in await self.store.claimable(kinds=list(self.kinds)) if i not in self._tasks]
        for run_id in ids:
            self._schedule(run_id)
        return ids

    # -- starting ------------------------------------------------------------------------------------------
    async def start(self, start: StartRun) -> Run:
        """Create the run of ``start.run_key`` (or find it) and have it executed in the background unless it is
        finished or someone executes it already. Returns the run as stored now."""
        self._kind(start.kind)
        run, _ = await self.store.create_or_get(start)
        if not run.done and not self._closing:
            self._schedule(run.id)
        return run

    async def run_here(self, start: StartRun) -> Run:
        """Start (or find) the run and execute it in this task, to its end (a command line's import). When
        another executor holds it, waits for that one; when that one died (a killed command line), takes the
        run over as soon as its lease runs out and resumes it from its checkpoint."""
        self._kind(start.kind)
        run, _ = await self.store.create_or_get(start)
        while not run.done:
            await self._execute(run.id)  # claims it unless a live lease holds it
            run = await self.wait(run.id, timeout=self.lease_seconds / 3)
        return run

    async def resume(self, run_id: str) -> Run:
        """Resume a failed run from its checkpoint (after its cause was fixed)."""
        run = await self.store.reopen(run_id)
        if run is None:
            current = await self.get(run_id)
            raise MedpayError(f"run {run_id} is {current.state.value}: only a failed run can be resumed",
                              reason="RUN_NOT_FAILED", metadata={"run": current.name})
        self._schedule(run.id)
        return run

    def _schedule(self, run_id: str) -> None:
        if run_id in self._tasks or self._closing:
            return
        task = asyncio.create_task(self._guarded(run_id))
        self._tasks[run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run_id, None))

    async def _guarded(self, run_id: str) -> None:
        try:
            async with self._slots:
                await self._execute(run_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s: execution failed outside its job", run_id)

    # -- execution -----------------------------------------------------------------------------------------
    async def _execute(self, run_id: str) -> None:
        run = await self.store.claim(run_id, self.owner, self.lease_seconds)
        if run is None:
            return  # finished, or executed by someone else
        kind = self.kinds.get(run.kind)
        if kind is None:
            await self.store.release(run)  # another service version offers this kind
            return
        if run.attempts - run.attempts_before_resume > kind.max_attempts:
            await self._end(run, RunState.FAILED, error=RunError(
                "ABORTED", "RUN_ATTEMPTS_EXHAUSTED",
                f"gave up after {kind.max_attempts} executions that ended without finishing (crashes or "
                f"lost leases); see the service log, then resume the run"))
            return
        if run.cancel_requested:
            await self._end(run, RunState.CANCELLED, error=_cancelled())
            return
        context = RunContext(self.store, run, self._report_interval)
        heartbeat = asyncio.create_task(self._heartbeat(context, asyncio.current_task()))
        try:
            result = await kind.job(context)
        except RunCancelled:
            await self._end(context.run, RunState.CANCELLED, error=_cancelled(), progress=context.progress)
        except RunLost:
            log.warning("run %s: lost to another executor; stopping without writing", run_id)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if context.lost and current is not None and not self._closing:
                current.uncancel()  # our heartbeat stopped the job: the run belongs to another executor now
                log.warning("run %s: lost to another executor; its job was stopped", run_id)
                return
            if context.cancel_requested and not self._closing:
                await self._end(context.run, RunState.CANCELLED, error=_cancelled(), progress=context.progress)
                return
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.release(context.run))
            raise
        except MedpayError as refused:
            await self._end(context.run, RunState.FAILED, progress=context.progress,
                            error=RunError(refused.code, refused.reason, refused.message))
        except Exception as crashed:
            log.exception("run %s (%s) failed", run_id, run.kind)
            await self._end(context.run, RunState.FAILED, progress=context.progress,
                            error=RunError("INTERNAL", "RUN_FAILED", f"{type(crashed).__name__}: {crashed}"))
        else:
            await self._end(context.run, RunState.SUCCEEDED, result=result, progress=context.progress)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, context: RunContext, job: asyncio.Task[Any] | None) -> None:
        """Renew the lease while the job runs; stop the job when the run was lost (fenced out)."""
        try:
            while True:
                await asyncio.sleep(self.lease_seconds / 3)
                context.cancel_requested = await self.store.renew(context.run, self.lease_seconds) \
                    or context.cancel_requested
        except RunLost:
            log.warning("run %s: lease lost; interrupting its job", context.run.id)
            context.lost = True
            if job is not None:
                job.cancel()
        except asyncio.CancelledError:
            pass

    async def _end(self, run: Run, state: RunState, *, result: Any = None, error: RunError | None = None,
                   progress: Progress | None = None) -> None:
        try:
            await self.store.finish(run, state, result=result, error=error, progress=progress)
        except RunLost:
            log.warning("run %s: lost before it could be marked %s", run.id, state.value)
        event = self._finished.pop(run.id, None)
        if event is not None:
            event.set()

    # -- reading -------------------------------------------------------------------------------------------
    async def get(self, run_id: str) -> Run:
        run = await self.store.get(run_id)
        if run is None:
            raise NotFound(f"no operation {OPERATION_PREFIX}{run_id}", reason="OPERATION_NOT_FOUND",
                           metadata={"name": f"{OPERATION_PREFIX}{run_id}"})
        return run

    async def cancel(self, run_id: str) -> Run:
        run = await self.store.request_cancel(run_id)
        if run is None:
            raise NotFound(f"no operation {OPERATION_PREFIX}{run_id}", reason="OPERATION_NOT_FOUND",
                           metadata={"name": f"{OPERATION_PREFIX}{run_id}"})
        return run

    async def wait(self, run_id: str, timeout: float | None) -> Run:  # noqa: ASYNC109 - a time budget, not a cancel
        """The run once it is done, or as it is when ``timeout`` seconds have passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            event = self._finished.setdefault(run_id, asyncio.Event())  # set when this process finishes it
            run = await self.get(run_id)
            if run.done:
                return run
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return run
            with contextlib.suppress(TimeoutError):  # else poll: another process may be executing it
                await asyncio.wait_for(event.wait(), min(0.5, left) if left is not None else 0.5)

    def operation(self, run: Run) -> operations_pb2.Operation:
        """The run as a google.longrunning.Operation (AIP-151)."""
        from .operations import to_operation

        return to_operation(run, self.kinds.get(run.kind), self.domain)

    def _kind(self, name: str) -> JobKind:
        try:
            return self.kinds[name]
        except KeyError:
            raise ValueError(f"no job kind {name!r}; this service runs {', '.join(self.kinds)}") from None


def _cancelled() -> RunError:
    return RunError("CANCELLED", "RUN_CANCELLED", "cancelled on request")


__all__ = ["Job", "JobKind", "RunContext", "Runs"]
