"""Resumable, exactly-once file imports (lists and settlement records): a file's job row is its checkpoint.

A file is identified by the SHA-256 of its whole content (not its name, size or first bytes: a changed file of
the same size is a new file). Each chunk is written together with the checkpoint (the file line reached and the
counts) in one transaction, so an interrupted import resumes after the last committed chunk and a finished one
is not run again.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.tables import SCHEMA

S = SCHEMA


@dataclass
class JobState:
    lines_done: int = 0
    accepted: int = 0
    rejected: int = 0
    finished: bool = False
    started: bool = False  # False: a new job (nothing of the file imported before)
    pending: int = 0


async def start_job(session: AsyncSession, digest: str, path: Path, kind: str) -> JobState:
    """The job of this file: its checkpoint when it ran before (perhaps finished), else a new one (the caller
    commits)."""
    row = (await session.execute(text(
        f"SELECT lines_done, accepted, rejected, finished, pending FROM {S}.import_job WHERE file_digest = :d"),
        {"d": digest})).first()
    if row is not None:
        return JobState(row.lines_done, row.accepted, row.rejected, bool(row.finished), started=True,
                        pending=row.pending)
    await session.execute(text(
        f"INSERT INTO {S}.import_job (file_digest, path, lines_done, accepted, rejected, kind) "
        f"VALUES (:d, :p, 0, 0, 0, :k)"), {"d": digest, "p": str(path), "k": kind})
    return JobState()


async def checkpoint(session: AsyncSession, digest: str, state: JobState) -> None:
    await session.execute(text(
        f"UPDATE {S}.import_job SET lines_done = :n, accepted = :a, rejected = :r, pending = :p, updated_time = now() "
        f"WHERE file_digest = :d"), {"n": state.lines_done, "a": state.accepted, "r": state.rejected,
                                     "p": state.pending, "d": digest})


async def finish_job(session: AsyncSession, digest: str) -> None:
    await session.execute(text(f"UPDATE {S}.import_job SET finished = 1 WHERE file_digest = :d"), {"d": digest})


def file_digest(path: Path) -> str:
    """The SHA-256 of the file's content, read in 1 MiB blocks (about 0.1 s per 64 MB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def open_lines(path: Path) -> IO[bytes]:
    """The file, gunzipped on the fly when it ends in .gz (a context manager either way)."""
    return cast(IO[bytes], gzip.open(path, "rb")) if path.suffix == ".gz" else path.open("rb")


def numbered(f: IO[bytes], skip: int) -> Iterator[tuple[int, bytes]]:
    """(file line number from 1, line) of the non-blank lines after line ``skip``."""
    for number, line in enumerate(f, start=1):
        if number <= skip or not line.strip():
            continue
        yield number, line


def chunks(lines: Iterator[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
