"""The national door's state shared by every replica, in PostgreSQL: gateway nonces and serial blocks.

- Nonces: a signed request's (key, nonce) is inserted once; a replay finds it taken, after a restart and on any
  replica alike. Rows are kept for twice the timestamp window (a request older than the window is refused on its
  timestamp anyway), then deleted in passing.
- Serials: each process takes blocks of ``BLOCK`` numbers from one sequence, so the numbers it hands out (the
  last 10 digits of every ``inf_refmsgid``) never repeat across replicas; a block is fetched ahead of need.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import time
from collections import deque
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import SCHEMA

log = logging.getLogger(__name__)
S = SCHEMA
BLOCK = 10_000
SERIAL_DIGITS = 10
_MODULUS = 10_000_000_000  # 10**SERIAL_DIGITS


class Nonces(Protocol):
    async def claim(self, key_id: str, nonce: str) -> bool:
        """True the first time (key_id, nonce) is claimed, False for a replay."""


class Serials(Protocol):
    def next(self) -> int:
        """A number of at most ``SERIAL_DIGITS`` digits, unique among the live ones of every replica."""


class PostgresNonces:
    def __init__(self, engine: AsyncEngine, window_seconds: int, purge_every_seconds: float = 60.0) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._keep = 2 * window_seconds
        self._purge_every = purge_every_seconds
        self._last_purge = 0.0

    async def claim(self, key_id: str, nonce: str) -> bool:
        async with self._engine.connect() as conn:
            row = (await conn.execute(text(
                f"INSERT INTO {S}.gateway_nonce (key_id, nonce) VALUES (:k, :n) ON CONFLICT DO NOTHING RETURNING 1"),
                {"k": key_id, "n": nonce})).first()
            if time.monotonic() - self._last_purge > self._purge_every:
                self._last_purge = time.monotonic()
                await conn.execute(text(f"DELETE FROM {S}.gateway_nonce "
                                        f"WHERE seen_time < now() - make_interval(secs => :keep)"),
                                   {"keep": self._keep})
        return row is not None


class MemoryNonces:
    """One process's nonces (a door without a database: tests, tools). Replays across restarts are not caught."""

    def __init__(self, window_seconds: int) -> None:
        self._keep = 2 * window_seconds
        self._seen: dict[tuple[str, str], float] = {}
        self._order: deque[tuple[float, tuple[str, str]]] = deque()

    async def claim(self, key_id: str, nonce: str) -> bool:
        now = time.monotonic()
        while self._order and now - self._order[0][0] > self._keep:
            self._seen.pop(self._order.popleft()[1], None)
        if (key_id, nonce) in self._seen:
            return False
        self._seen[(key_id, nonce)] = now
        self._order.append((now, (key_id, nonce)))
        return True


class PostgresSerials:
    """Blocks of ``BLOCK`` serials from ``door_serial_block_seq``; the next block is fetched when half of the
    current one is used. Should the database be unreachable when a block runs out, serials are drawn at random
    (logged once): a response is never held up by the numbering."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._next = self._end = 0
        self._spare: list[int] = []
        self._fetching: asyncio.Task[None] | None = None
        self._warned = False

    async def start(self) -> None:
        self._use(await self._fetch())

    def next(self) -> int:
        if self._end - self._next < BLOCK // 2 and not self._spare and self._fetching is None:
            self._fetching = asyncio.get_running_loop().create_task(self._prefetch())
        if self._next == self._end and self._spare:
            self._use(self._spare.pop())
        if self._next < self._end:
            self._next += 1
            return (self._next - 1) % _MODULUS
        if not self._warned:
            log.warning("inf_refmsgid serials: no block from the database; drawing serials at random")
            self._warned = True
        return secrets.randbelow(_MODULUS)

    def _use(self, block: int) -> None:
        self._next, self._end = block * BLOCK, (block + 1) * BLOCK

    async def _prefetch(self) -> None:
        try:
            self._spare.append(await self._fetch())
        except Exception:  # the database is down: keep serving, retry at the next call
            log.warning("inf_refmsgid serials: cannot fetch a block", exc_info=True)
        finally:
            self._fetching = None

    async def _fetch(self) -> int:
        async with self._engine.connect() as conn:
            block: int = (await conn.execute(text(f"SELECT nextval('{S}.door_serial_block_seq')"))).scalar_one()
        return block


class ProcessSerials:
    """Serials unique within one process only (pid and a counter): for a door without a database."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._pid = os.getpid() % 10_000

    def next(self) -> int:
        return self._pid * 10**6 + next(self._counter) % 10**6
