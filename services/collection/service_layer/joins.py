"""The joiner: lists meet settlement records that arrived (or changed) after them.

Work comes from the join queue (``join_task``), written in the same transaction as each record change (and a
reactivated list). One transaction per batch claims tasks (skipping those another joiner holds), takes the stays'
locks, reads both sides, decides (checked and grouped, rejected, or back to waiting when the settlement was
reversed), stores every outcome with its feed event, and deletes the tasks. A crash before commit leaves the
tasks for the next run; after commit the work is done once. It runs right after a record batch is stored and,
as a sweep, every few seconds and at start-up (what a crash left behind).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from libs.common.errors import MedpayError

from ..adapters.records import (
    Key,
    ListState,
    StoredRecord,
    claim_join_tasks,
    current_records,
    delete_join_tasks,
    list_states,
    lock_keys,
)
from ..adapters.repository import JoinOutcome
from ..domain.feed import EventKind
from ..domain.model import ListStatus, ParsedList
from ..domain.parsing import parse_list
from ..domain.qc import RULESET_VERSION
from .cases import CaseChecker
from .unit_of_work import CollectionUnitOfWork

log = logging.getLogger(__name__)
BATCH = 500
SWEEP_SECONDS = 5.0


@dataclass
class JoinReport:
    tasks: int = 0
    changed: int = 0


class Joiner:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], checker: CaseChecker, *,
                 batch: int = BATCH) -> None:
        self._new_uow = new_uow
        self._checker = checker
        self._batch = batch

    async def run(self, keys: Sequence[Key] | None = None) -> JoinReport:
        """Work the queue (only these stays' tasks when ``keys`` is given) until it is empty (or what is left is
        held by another joiner)."""
        report = JoinReport()
        while True:
            async with self._new_uow() as uow:
                tasks = await claim_join_tasks(uow.session, keys, self._batch)
                if not tasks:
                    return report
                stays = sorted({key for _, key in tasks})
                await lock_keys(uow.session, stays)
                outcomes = await self._decide(stays, await list_states(uow.session, stays),
                                              await current_records(uow.session, stays))
                report.changed += await uow.lists.apply_joins(outcomes, RULESET_VERSION)
                await delete_join_tasks(uow.session, [task_id for task_id, _ in tasks])
                await uow.commit()
            report.tasks += len(tasks)

    async def sweep_forever(self, seconds: float = SWEEP_SECONDS) -> None:
        """Run the queue every ``seconds`` (the first time at once): what a crash or an unavailable coding or
        grouping service left waiting is joined as soon as it can be."""
        while True:
            try:
                report = await self.run()
                if report.tasks:
                    log.info("joined %d stays (%d lists changed)", report.tasks, report.changed)
            except MedpayError as failed:
                log.warning("joining lists and settlement records waits: %s", failed.message)
            except Exception:
                log.exception("joining lists and settlement records failed; retrying")
            await asyncio.sleep(seconds)

    async def _decide(self, stays: Sequence[Key], lists: dict[Key, ListState],
                      records: dict[Key, StoredRecord]) -> list[JoinOutcome]:
        outcomes: list[JoinOutcome] = []
        work: list[tuple[ListState, ParsedList, StoredRecord]] = []
        for stay in stays:
            listed, record = lists.get(stay), records.get(stay)
            if listed is None or record is None or listed.status == ListStatus.REVOKED.value:
                continue  # a record waiting for its list, a list waiting for its record, or a revoked list
            if listed.record_revision == record.revision and listed.status != ListStatus.PENDING.value:
                continue  # joined with this revision already
            parsed, _ = parse_list(stay[0], "", listed.body)
            if parsed is None:
                continue  # stored lists parse; a list that no longer does keeps its state
            if record.status != "ACTIVE":
                outcomes.append(self._reversed(listed, parsed, record))
            else:
                work.append((listed, parsed, record))
        verdicts = await self._checker.check([(parsed, record) for _, parsed, record in work])
        for (listed, _, record), verdict in zip(work, verdicts, strict=True):
            shown = verdict.status is ListStatus.ACTIVE or listed.last_event_revision is not None
            outcomes.append(JoinOutcome(
                listed.list_id, listed.revision, verdict.status, record.revision, verdict.case, verdict.findings,
                verdict.group, verdict.hospital_level, _event(listed) if shown else None,
                f"settlement record revision {record.revision}" if listed.record_revision is not None
                else "settlement record joined"))
        return outcomes

    @staticmethod
    def _reversed(listed: ListState, parsed: ParsedList, record: StoredRecord) -> JoinOutcome:
        """The stay's settlement was reversed (2305): an active case goes back to waiting for a new settlement;
        a waiting or rejected list only notes the record revision it has seen."""
        if listed.status != ListStatus.ACTIVE.value:
            return JoinOutcome(listed.list_id, listed.revision, None, record.revision, parsed)
        return JoinOutcome(listed.list_id, listed.revision, ListStatus.PENDING, record.revision, parsed,
                           event=EventKind.RECORD_CHANGED if listed.last_event_revision else None,
                           reason="settlement reversed (2305), waiting for a new settlement record", keep_case=True)


def _event(listed: ListState) -> EventKind:
    if listed.last_event_revision is None:
        return EventKind.ACCEPTED
    return EventKind.RECORD_CHANGED if listed.last_event_revision == listed.revision else EventKind.REVISED
