"""Reading and changing stored lists; the grouped-case feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from libs.common.audit import record
from libs.common.errors import InvalidArgument, NotFound

from ..adapters.tables import audit
from ..domain.model import ListStatus, StoredList
from .unit_of_work import CollectionUnitOfWork

_ACTION = {ListStatus.REVOKED: "revoke", ListStatus.ACTIVE: "restore"}
Visible = Callable[[StoredList], bool]
"""Whether the caller may see a stored list (the gRPC servicer's tenant check)."""


class Lists:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork]) -> None:
        self._new_uow = new_uow

    @property
    def new_uow(self) -> Callable[[], CollectionUnitOfWork]:
        return self._new_uow

    async def get(self, setl_list_id: str = "", fixmedins_code: str = "", setl_id: str = "",
                  revision: int = 0, *, owner: str = "", visible: Visible | None = None) -> StoredList:
        """A stored list; with ``owner`` only that institution's, with ``visible`` only one it admits (another's
        is "not found", not "forbidden": a caller must not learn which list ids exist)."""
        _identified(setl_list_id, fixmedins_code, setl_id)
        async with self._new_uow() as uow:
            found = await uow.lists.find(setl_list_id, fixmedins_code, setl_id, revision)
        if found is None or (owner and found.fixmedins_code != owner) or (visible and not visible(found)):
            what = setl_list_id or f"{fixmedins_code}/{setl_id}"
            raise NotFound(f"no settlement list {what}" + (f" revision {revision}" if revision else ""),
                           reason="SETTLEMENT_LIST_NOT_FOUND", metadata={"list": what})
        return found

    async def set_status(self, status: ListStatus, reason: str, *, setl_list_id: str = "", fixmedins_code: str = "",
                         setl_id: str = "", owner: str = "", visible: Visible | None = None) -> StoredList:
        _identified(setl_list_id, fixmedins_code, setl_id)
        async with self._new_uow() as uow:
            found = await uow.lists.find(setl_list_id, fixmedins_code, setl_id)
            if found is None or (owner and found.fixmedins_code != owner) or (visible and not visible(found)):
                raise NotFound(f"no settlement list {setl_list_id or setl_id}", reason="SETTLEMENT_LIST_NOT_FOUND")
            if await uow.lists.set_status(found.list_id, status, reason or "status change"):
                # The decision and its audit row commit together.
                await record(uow.session, audit, f"settlement_list.{_ACTION.get(status, status.value.lower())}",
                             f"settlementLists/{found.setl_list_id}", fixmedins_code=found.fixmedins_code,
                             region=found.region, detail={"status": status.value, "reason": reason})
                await uow.commit()
        return await self.get(found.setl_list_id)

    async def page(self, *, fixmedins_code: str, region: str, period: str, status: str, before: int,
                   limit: int) -> list[Any]:
        async with self._new_uow() as uow:
            return await uow.lists.list_page(fixmedins_code=fixmedins_code, region=region, period=period,
                                             status=status, before=before, limit=limit)

    async def cases(self, region: str, period: str) -> AsyncIterator[list[Any]]:
        """Active lists' current revisions with their bodies, by list id (for regrouping)."""
        check_region(region)
        check_period(period)
        async with self._new_uow() as uow:
            async for chunk in uow.lists.stream_all(region, period):
                yield chunk


def check_region(region: str, field: str = "region") -> None:
    if not (len(region) == 6 and region.isdigit()):
        raise InvalidArgument.field(field, f"must be a 6-digit division code, got {region!r}")


def check_period(period: str, field: str = "period") -> None:
    if not (len(period) == 7 and period[4] == "-" and period[:4].isdigit() and period[5:].isdigit()
            and 1 <= int(period[5:]) <= 12):
        raise InvalidArgument.field(field, f"must be yyyy-MM, got {period!r}")


def _identified(setl_list_id: str, fixmedins_code: str, setl_id: str) -> None:
    if not setl_list_id and not (fixmedins_code and setl_id):
        raise InvalidArgument.field("setl_list_id", "give setl_list_id, or fixmedins_code and setl_id")
