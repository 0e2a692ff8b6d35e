"""A scratch schema with a run table (made by the migration helper) and a chunked job, for the run tests and
the worker process that the crash test kills."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from libs.common.db.engine import asyncpg_url
from libs.common.runs import Job, JobKind, RunContext, Runs, StartRun, run_table

SCHEMA = "runs_test"
metadata = MetaData(schema=SCHEMA)
runs_table = run_table(metadata)
chunk_done = Table("chunk_done", metadata, Column("run_id", Text, primary_key=True),
                   Column("chunk", Integer, primary_key=True), Column("attempt", Integer, nullable=False))
"""One row per chunk a job completed, written in the transaction of its checkpoint: a chunk done twice would
violate the primary key."""

second_metadata = MetaData(schema="runs_test_b")
second_runs_table = run_table(second_metadata)
"""A second schema's run table: one process serving the runs of two schemas (as evaluation and review)."""

KIND = "test.chunks"


def chunk_job(engine: AsyncEngine, delay: float = 0.0, fail_at: int | None = None, announce: bool = False) -> Job:
    """Parameters: {"chunks": n}. Each chunk commits its row and the checkpoint together."""

    async def job(ctx: RunContext) -> dict[str, Any]:
        chunks = int(ctx.run.parameters["chunks"])
        for index in range(ctx.checkpoint or 0, chunks):
            if delay:
                await asyncio.sleep(delay)
            if fail_at is not None and index == fail_at and ctx.run.attempts == 1:
                raise RuntimeError(f"chunk {index} broke")
            async with engine.begin() as conn:
                await conn.execute(insert(chunk_done).values(run_id=ctx.run.id, chunk=index,
                                                             attempt=ctx.run.attempts))
                await ctx.save(index + 1, done=index + 1, total=chunks, connection=conn)
            if announce:
                print(f"chunk {index}", flush=True)
        return {"chunks": chunks}

    return job


def engine_for(url: str) -> AsyncEngine:
    return create_async_engine(asyncpg_url(url), pool_size=5)


async def _worker(url: str, run_key: str, chunks: int) -> None:
    """Run one chunked run in this process, slowly, announcing each chunk (the crash test kills it)."""
    engine = engine_for(url)
    runs = Runs(engine, runs_table, [JobKind(KIND, chunk_job(engine, delay=0.15, announce=True))],
                domain="test.medpay", lease_seconds=1.0)
    await runs.run_here(StartRun(KIND, run_key, {"chunks": chunks}))


if __name__ == "__main__":
    asyncio.run(_worker(sys.argv[1], sys.argv[2], int(sys.argv[3])))
