"""One loop for the in-memory snapshots a service refreshes from its database (code index, DIP catalogues, rule
sets, knowledge): a failed read is logged and keeps the snapshot already loaded, so a database hiccup never takes
a serving process's tables away; only cancellation ends the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def refresh_forever(refresh: Callable[[], Awaitable[object]], every_seconds: float, *,
                          keeping: str | Callable[[], str],
                          at_once: bool = False, on_failure: Callable[[], None] | None = None) -> None:
    """Call ``refresh`` every ``every_seconds`` (first at once when ``at_once``, else after one interval) until
    cancelled. A failure is logged with ``keeping`` (what stays in use, or a function saying it at that moment)
    and counted through ``on_failure``."""
    if not at_once:
        await asyncio.sleep(every_seconds)
    while True:
        try:
            await refresh()
        except Exception:
            if on_failure is not None:
                on_failure()
            log.exception("refresh failed; keeping %s", keeping if isinstance(keeping, str) else keeping())
        await asyncio.sleep(every_seconds)
