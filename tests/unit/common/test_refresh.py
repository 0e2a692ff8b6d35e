"""The shared refresh loop: a failure is counted and logged and the loop goes on; cancellation ends it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from libs.common.refresh import refresh_forever


def _refresher(calls: list[str], enough: asyncio.Event, count: int) -> Callable[[], Awaitable[None]]:
    """A refresh whose second call fails; ``enough`` is set once it has been called ``count`` times."""
    async def refresh() -> None:
        calls.append("call")
        if len(calls) >= count:
            enough.set()
        if len(calls) == 2:
            raise ConnectionError("database went away")
    return refresh


async def test_a_failed_refresh_is_counted_logged_and_the_next_one_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    failures: list[int] = []
    enough = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="libs.common.refresh"):
        task = asyncio.create_task(refresh_forever(_refresher(calls, enough, 4), 0.001, keeping=lambda: "rule set v3",
                                                   on_failure=lambda: failures.append(1)))
        await asyncio.wait_for(enough.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(calls) >= 4 and failures == [1]
    assert [r.getMessage() for r in caplog.records] == ["refresh failed; keeping rule set v3"]


async def test_the_first_refresh_waits_one_interval_unless_asked_at_once() -> None:
    calls: list[str] = []
    enough = asyncio.Event()
    late = asyncio.create_task(refresh_forever(_refresher(calls, asyncio.Event(), 1), 60, keeping="the index"))
    eager = asyncio.create_task(refresh_forever(_refresher(calls, enough, 1), 60, keeping="the index", at_once=True))
    await asyncio.wait_for(enough.wait(), 10)
    await asyncio.sleep(0.05)
    assert calls == ["call"]  # the eager loop's; the other is still in its first interval
    for task in (late, eager):
        task.cancel()
    await asyncio.gather(late, eager, return_exceptions=True)
