"""What waits: lists stored without their settlement record, and records whose list has not arrived."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from libs.common.errors import InvalidArgument

from .queries import check_region
from .unit_of_work import CollectionUnitOfWork

KINDS = ("LIST", "RECORD")


@dataclass(frozen=True)
class PendingItem:
    kind: str  # LIST: a list waiting for its record; RECORD: a record waiting for its list
    fixmedins_code: str
    setl_id: str
    psn_no: str
    setl_list_id: str
    since: datetime
    ident: int  # the list or record id: the keyset's tie-breaker


@dataclass(frozen=True)
class PendingPage:
    items: tuple[PendingItem, ...]
    cursor: str  # where the next page starts; empty on the last
    lists_waiting: int
    records_waiting: int
    oldest_list_since: datetime | None
    oldest_record_since: datetime | None


async def pending(new_uow: Callable[[], CollectionUnitOfWork], *, region: str = "", fixmedins_code: str = "",
                  kinds: Sequence[str] = KINDS, cursor: str = "", limit: int = 100) -> PendingPage:
    """A page of waiting items (lists first, then records, each oldest first) and the totals. ``cursor`` is
    the previous page's."""
    if region:
        check_region(region)
    wanted = [k for k in KINDS if k in (kinds or KINDS)]
    start_kind, after = _read_cursor(cursor, wanted)
    items: list[PendingItem] = []
    async with new_uow() as uow:
        for kind in wanted[wanted.index(start_kind):] if start_kind else []:
            rows = await uow.lists.pending(kind, region=region, fixmedins_code=fixmedins_code,
                                           after=after if kind == start_kind else None, limit=limit + 1 - len(items))
            items += [PendingItem(kind, r.fixmedins_code, r.setl_id, r.psn_no, r.setl_list_id, r.since, r.id)
                      for r in rows]
            if len(items) > limit:
                break
        totals = await uow.lists.pending_totals(region=region, fixmedins_code=fixmedins_code)
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    next_cursor = f"{last.kind}|{last.since.isoformat()}|{last.ident}" if more and last else ""
    return PendingPage(tuple(items), next_cursor, totals[0], totals[2], totals[1], totals[3])


def _read_cursor(cursor: str, wanted: list[str]) -> tuple[str, tuple[datetime, int] | None]:
    if not cursor:
        return (wanted[0] if wanted else ""), None
    try:
        kind, since, ident = cursor.split("|")
        if kind not in wanted:
            raise ValueError(kind)
        return kind, (datetime.fromisoformat(since), int(ident))
    except ValueError:
        raise InvalidArgument.field("page_token", "not a token returned by this service",
                                    "INVALID_PAGE_TOKEN") from None
