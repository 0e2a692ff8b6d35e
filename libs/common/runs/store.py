"""Persistence of runs in a service's run table (SQLAlchemy Core on the service's async engine).

Every write by an executor is fenced by (owner, attempts): an executor whose lease ran out and was taken over
can no longer change the run, so two executions never both write.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .model import Progress, Run, RunError, RunKeyReused, RunLost, RunState, StartRun, canonical_json

_UNSET: Any = object()
_OPEN = (RunState.PENDING.value, RunState.RUNNING.value)


class RunStore:
    def __init__(self, engine: AsyncEngine, table: Table) -> None:
        self.engine = engine
        self.table = table

    # -- starting and reading ------------------------------------------------------------------------------
    async def create_or_get(self, start: StartRun) -> tuple[Run, bool]:
        """The run of ``start.run_key`` (created now when new: ``True``); a different run under the same key
        is ``RunKeyReused``."""
        t = self.table
        parameters_json = canonical_json(dict(start.parameters))
        versions = {str(k): str(v) for k, v in start.versions.items()}
        statement = insert(t).values(
            id=uuid.uuid4().hex, kind=start.kind, run_key=start.run_key, parameters=json.loads(parameters_json),
            parameters_json=parameters_json, input_digest=start.input_digest, versions=versions,
            state=RunState.PENDING.value, progress_total=start.total, progress_unit=start.unit,
        ).on_conflict_do_nothing(index_elements=["kind", "run_key"]).returning(*t.c)
        async with self.engine.begin() as conn:
            created = (await conn.execute(statement)).first()
            if created is not None:
                return _run(created), True
            row = (await conn.execute(select(t).where(t.c.kind == start.kind,
                                                      t.c.run_key == start.run_key))).one()
        existing = _run(row)
        if (row.parameters_json, existing.input_digest, dict(existing.versions)) != (
                parameters_json, start.input_digest, versions):
            raise RunKeyReused(
                f"run key {start.run_key!r} of {start.kind} was started with other parameters, inputs or versions "
                f"(run {existing.id}); choose a new key for a different run", reason="RUN_KEY_REUSED",
                metadata={"run_key": start.run_key, "kind": start.kind, "run": existing.name})
        return existing, False

    async def get(self, run_id: str) -> Run | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(self.table).where(self.table.c.id == run_id))).first()
        return _run(row) if row is not None else None

    async def list_runs(self, *, limit: int, after: tuple[datetime, str] | None = None, kind: str | None = None,
                   state: RunState | None = None, run_key: str | None = None,
                   done: bool | None = None) -> list[Run]:
        """Newest first, by (created_at, id), after the cursor ``after``."""
        t = self.table
        query = select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
        if after is not None:
            query = query.where(tuple_(t.c.created_at, t.c.id) < tuple_(*after))
        if kind is not None:
            query = query.where(t.c.kind == kind)
        if state is not None:
            query = query.where(t.c.state == state.value)
        if run_key is not None:
            query = query.where(t.c.run_key == run_key)
        if done is not None:
            query = query.where(t.c.state.not_in(_OPEN) if done else t.c.state.in_(_OPEN))
        async with self.engine.connect() as conn:
            return [_run(r) for r in (await conn.execute(query))]

    async def claimable(self, kinds: list[str], limit: int = 100) -> list[str]:
        """Unfinished runs of ``kinds`` nobody holds: new ones, and those whose owner's lease ran out (a crash)."""
        t = self.table
        query = (select(t.c.id).where(t.c.state.in_(_OPEN), t.c.kind.in_(kinds),
                                      or_(t.c.owner.is_(None), t.c.lease_until < func.now()))
                 .order_by(t.c.created_at).limit(limit))
        async with self.engine.connect() as conn:
            return [r.id for r in await conn.execute(query)]

    # -- execution (fenced) --------------------------------------------------------------------------------
    async def claim(self, run_id: str, owner: str, lease_seconds: float) -> Run | None:
        """Take an unfinished run nobody holds (one more attempt); ``None`` when someone else has it or it is
        finished."""
        t = self.table
        statement = (update(t).where(t.c.id == run_id, t.c.state.in_(_OPEN),
                                     or_(t.c.owner.is_(None), t.c.lease_until < func.now()))
                     .values(state=RunState.RUNNING.value, owner=owner, attempts=t.c.attempts + 1,
                             lease_until=func.now() + _seconds(lease_seconds),
                             started_at=func.coalesce(t.c.started_at, func.now()), updated_at=func.now())
                     .returning(*t.c))
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).first()
        return _run(row) if row is not None else None

    async def renew(self, run: Run, lease_seconds: float) -> bool:
        """Extend the lease; returns whether a cancellation was asked for. ``RunLost`` when fenced out."""
        t = self.table
        statement = (update(t).where(*self._fence(run))
                     .values(lease_until=func.now() + _seconds(lease_seconds)).returning(t.c.cancel_requested))
        async with self.engine.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            raise RunLost(run.id)
        return bool(row.cancel_requested)

    async def save(self, run: Run, progress: Progress | None, checkpoint: Any = _UNSET,
                   connection: AsyncConnection | None = None) -> bool:
        """Record progress and/or the checkpoint; on ``connection`` (the job's own transaction) when given, so
        the job's writes and its checkpoint commit together. Returns whether a cancellation was asked for."""
        t = self.table
        values: dict[str, Any] = {"updated_at": func.now()}
        if progress is not None:
            values.update(progress_done=progress.done, progress_total=progress.total,
                          progress_unit=progress.unit, progress_message=progress.message)
        if checkpoint is not _UNSET:
            values["checkpoint"] = _json_value(checkpoint)
        statement = update(t).where(*self._fence(run)).values(**values).returning(t.c.cancel_requested)
        if connection is not None:
            row = (await connection.execute(statement)).first()
        else:
            async with self.engine.begin() as conn:
                row = (await conn.execute(statement)).first()
        if row is None:
            raise RunLost(run.id)
        return bool(row.cancel_requested)

    async def finish(self, run: Run, state: RunState, *, result: Any = None, error: RunError | None = None,
                     progress: Progress | None = None) -> Run:
        t = self.table
        values: dict[str, Any] = {"state": state.value, "owner": None, "lease_until": None,
                                  "finished_at": func.now(), "updated_at": func.now(),
                                  "result": _json_value(result) if result is not None else None}
        if error is not None:
            values.update(error_code=error.code, error_reason=error.reason, error_message=error.message)
        if progress is not None:
            values.update(progress_done=progress.done, progress_total=progress.total,
                          progress_unit=progress.unit, progress_message=progress.message)
        async with self.engine.begin() as conn:
            row = (await conn.execute(update(t).where(*self._fence(run)).values(**values).returning(*t.c))).first()
        if row is None:
            raise RunLost(run.id)
        return _run(row)

    async def release(self, run: Run) -> None:
        """Give a run back unfinished (a graceful stop): the next executor resumes it at once, and the
        interrupted attempt does not count."""
        t = self.table
        async with self.engine.begin() as conn:
            await conn.execute(update(t).where(*self._fence(run)).values(
                owner=None, lease_until=None, attempts=t.c.attempts - 1, updated_at=func.now()))

    def _fence(self, run: Run) -> tuple[Any, ...]:
        t = self.table
        return (t.c.id == run.id, t.c.owner == run.owner, t.c.attempts == run.attempts,
                t.c.state == RunState.RUNNING.value)

    # -- requests from clients -----------------------------------------------------------------------------
    async def request_cancel(self, run_id: str) -> Run | None:
        """Ask for cancellation. A run nobody executes yet is cancelled at once; a running one at its job's next
        report or checkpoint; a finished one stays as it is."""
        t = self.table
        async with self.engine.begin() as conn:
            await conn.execute(update(t).where(t.c.id == run_id, t.c.state.in_(_OPEN))
                               .values(cancel_requested=True, updated_at=func.now()))
            await conn.execute(update(t).where(t.c.id == run_id, t.c.state == RunState.PENDING.value,
                                               or_(t.c.owner.is_(None), t.c.lease_until < func.now()))
                               .values(state=RunState.CANCELLED.value, finished_at=func.now(), owner=None,
                                       lease_until=None, error_code="CANCELLED", error_reason="RUN_CANCELLED",
                                       error_message="cancelled before it started"))
            row = (await conn.execute(select(t).where(t.c.id == run_id))).first()
        return _run(row) if row is not None else None

    async def reopen(self, run_id: str, states: tuple[RunState, ...] = (RunState.FAILED,)) -> Run | None:
        """A failed run back to PENDING, to resume from its checkpoint (an operator's retry after fixing the
        cause) with a fresh budget of ``max_attempts``; ``None`` unless it had failed (or was in one of
        ``states``: a file import also resumes a cancelled run when it is started again)."""
        t = self.table
        async with self.engine.begin() as conn:
            row = (await conn.execute(
                update(t).where(t.c.id == run_id, t.c.state.in_([s.value for s in states]))
                .values(state=RunState.PENDING.value, error_code=None, error_reason=None, error_message=None,
                        finished_at=None, attempts_before_resume=t.c.attempts, cancel_requested=False,
                        updated_at=func.now())
                .returning(*t.c))).first()
        return _run(row) if row is not None else None


def _seconds(value: float) -> Any:
    return text(f"interval '{float(value):.3f} seconds'")


def _json_value(value: Any) -> Any:
    """A JSON-able value with Decimals and dates as strings (what JSONB then stores exactly)."""
    return json.loads(canonical_json(value))


def _run(row: Row[Any] | Mapping[str, Any]) -> Run:
    r: Any = row
    error = RunError(r.error_code, r.error_reason or "", r.error_message or "") if r.error_code else None
    return Run(id=r.id, kind=r.kind, run_key=r.run_key, parameters=r.parameters, input_digest=r.input_digest,
               versions=dict(r.versions), state=RunState(r.state),
               progress=Progress(r.progress_done, r.progress_total, r.progress_unit, r.progress_message),
               checkpoint=r.checkpoint, result=r.result, error=error, attempts=r.attempts,
               attempts_before_resume=r.attempts_before_resume,
               cancel_requested=r.cancel_requested, owner=r.owner, lease_until=r.lease_until,
               created_at=r.created_at, started_at=r.started_at, updated_at=r.updated_at,
               finished_at=r.finished_at)

