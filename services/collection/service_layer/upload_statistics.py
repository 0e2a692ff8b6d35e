"""Quality control of uploads per institution over days of receipt: what evaluation's QC pass rate reads.

An upload attempt is a stored revision of a list or a rejection record (the door, batches and bulk imports write
both the same way); it passed when its revision has no ERROR finding as it stands (a list rejected when it met
its settlement record failed, one re-checked since as good passed). Days are Asia/Shanghai days of receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from libs.common.decimals import round_half_up
from libs.common.errors import InvalidArgument

from .queries import check_region
from .unit_of_work import CollectionUnitOfWork

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class UploadStatistics:
    fixmedins_code: str
    received: int
    passed: int

    @property
    def rejected(self) -> int:
        return self.received - self.passed

    @property
    def pass_rate(self) -> Decimal:
        """``passed / received``, rounded half up to 4 places once (``received`` is never 0 here)."""
        return round_half_up(Decimal(self.passed) / Decimal(self.received), 4)


@dataclass(frozen=True, slots=True)
class StatisticsPage:
    items: tuple[UploadStatistics, ...]
    cursor: str
    """The last institution code of a page followed by another; empty on the last page."""


async def upload_statistics(new_uow: Callable[[], CollectionUnitOfWork], *, region: str, start: date | None,
                            end: date | None, fixmedins_code: str = "", cursor: str = "",
                            limit: int = 100) -> StatisticsPage:
    """A page of institutions (by code) with their attempts received on the days ``start`` to ``end`` (inclusive;
    ``end`` ``None`` is open)."""
    check_region(region)
    if start is None:
        raise InvalidArgument.field("upload_dates.start_date", "is required")
    if end is not None and end < start:
        raise InvalidArgument.field("upload_dates.end_date", f"{end} is before the start {start}")
    since = datetime.combine(start, time(), SHANGHAI)
    until = datetime.combine(end + timedelta(days=1), time(), SHANGHAI) if end is not None else None
    async with new_uow() as uow:
        rows = await uow.lists.upload_statistics(region=region, since=since, until=until,
                                                 fixmedins_code=fixmedins_code, after=cursor, limit=limit + 1)
    items = tuple(UploadStatistics(str(r.fixmedins_code), int(r.received), int(r.passed)) for r in rows[:limit])
    return StatisticsPage(items, items[-1].fixmedins_code if len(rows) > limit and items else "")
