"""The national interface's clock: local times of China Standard Time (Asia/Shanghai), written without an offset.

One zone for every service that reads or writes those times (envelopes, settlement lists, fee details)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_now() -> datetime:
    """Now in China Standard Time, timezone-aware."""
    return datetime.now(CHINA)
