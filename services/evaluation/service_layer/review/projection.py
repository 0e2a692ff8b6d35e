"""The stays review keeps between runs, projected from the collection service's case feed: every event carries the
whole case after the change, so the latest event of a list is its row (revoked lists kept with their status).

CheckStay reads a person's earlier stays here (split admission during the stay). A review run brings its region up
to the feed's head, and the service then follows the region's feed (``libs.common.grpc.streams.StreamConsumer``)
for as long as it runs, every region a run brought in; the cursor per region is stored with the rows, in the same
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from medpay.collection.v1 import collection_service_pb2 as pb

from libs.common.grpc.streams import StreamConsumer

from ...adapters.review.collection import CollectionReader, period_text, stay_of_case
from .unit_of_work import ReviewUnitOfWork

_STATUS = {pb.LIST_STATUS_ACTIVE: "ACTIVE", pb.LIST_STATUS_REVOKED: "REVOKED"}
RETRY_SECONDS = 30.0
log = logging.getLogger(__name__)


def stay_row(case: pb.Case, sequence: int) -> dict[str, Any]:
    stay = stay_of_case(case)
    group = stay.group
    return {"fixmedins_code": stay.fixmedins_code, "setl_id": stay.setl_id, "region": case.region,
            "period": period_text(case), "mdtrt_id": stay.mdtrt_id, "psn_no": stay.psn_no,
            "status": _STATUS.get(case.status, "ACTIVE"),
            "adm_date": stay.admitted.date() if stay.admitted else None,
            "dscg_date": stay.discharged.date() if stay.discharged else None, "dscg_way": stay.discharge_way,
            "dept": stay.dept, "doctor": stay.doctor, "sex": stay.sex, "age_years": stay.age_years,
            "diagnoses": list(stay.diagnoses), "procedures": list(stay.procedures),
            "drg": group.drg if group else "", "adrg": group.adrg if group else "", "mdc": group.mdc if group else "",
            "total_fen": stay.total_fen, "sequence": sequence}


class Projection:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork], collection: CollectionReader) -> None:
        self._new_uow = new_uow
        self._collection = collection
        self._following: dict[str, asyncio.Task[None]] = {}

    async def apply(self, region: str, events: Sequence[pb.CaseEvent], resume_after: int) -> None:
        """Store a page of events (the latest state of each list wins) and the cursor after it."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:
            row = stay_row(event.case, event.sequence)
            latest[(row["fixmedins_code"], row["setl_id"])] = row
        async with self._new_uow() as uow:
            await uow.review.upsert_stays(list(latest.values()))
            await uow.review.save_cursor(region, resume_after)
            await uow.commit()

    async def catch_up(self, region: str) -> int:
        """Bring the region's stays up to the feed's head (then keep following it); returns the cursor."""
        cursor = await self._consume(region, follow=False)
        self.follow(region)
        return cursor

    def follow(self, region: str) -> None:
        """Keep the region's stays current in the background (until ``stop``)."""
        task = self._following.get(region)
        if task is None or task.done():
            self._following[region] = asyncio.create_task(self._follow(region))

    async def follow_known(self) -> None:
        """Follow every region a run has brought in before (the regions with a stored cursor)."""
        async with self._new_uow() as uow:
            regions = await uow.review.cursor_regions()
        for region in regions:
            self.follow(region)

    async def stop(self) -> None:
        tasks = list(self._following.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._following.clear()

    async def _follow(self, region: str) -> None:
        while True:
            try:
                await self._consume(region, follow=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # the consumer gave up (collection away for long): try again later
                log.exception("following the case feed of %s failed; retrying", region)
                await asyncio.sleep(RETRY_SECONDS)

    async def _consume(self, region: str, follow: bool) -> int:
        async with self._new_uow() as uow:
            cursor = await uow.review.cursor(region)
        feed = StreamConsumer(self._collection.event_stream(region, follow),
                              cursor_of=lambda message: message.resume_after_sequence, after=cursor)
        async for message in feed:
            await self.apply(region, message.events, message.resume_after_sequence)
        return int(feed.cursor)
