"""The core system's settlement records: intake (a batch over gRPC, or a file), revisions and reversals kept.

Idempotent by stay: a 2304 identical to the record's current revision changes nothing, a different one is a new
revision (a correction, or a new settlement after a reversal); a 2305 reverses the record (a second time changes
nothing). Each change is stored with a join task in one transaction that holds the stays' locks; after commit the
joiner checks and groups the lists that were waiting for these records (or were joined with an older revision).
A batch with a ``request_id`` answers a replay with its first answer.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.errors import Aborted, AlreadyExists, MedpayError

from ..adapters.records import Key, RecordChange, current_records, lock_keys, store_record_changes
from ..adapters.repository import IdempotencyKeyTaken
from ..domain.records import RecordRefused, SettlementRecord, parse_record
from .joins import Joiner
from .unit_of_work import CollectionUnitOfWork

log = logging.getLogger(__name__)


class RecordOutcome(enum.Enum):
    CREATED = "CREATED"  # the first record of the stay
    REVISED = "REVISED"  # a new revision (a correction, or a new settlement after a reversal)
    REVERSED = "REVERSED"  # a 2305: the settlement was cancelled
    UNCHANGED = "UNCHANGED"  # identical to the current revision (or a repeated reversal): nothing stored
    REFUSED = "REFUSED"  # not a settlement record: ``error`` says why


@dataclass(frozen=True)
class RecordResult:
    index: int
    outcome: RecordOutcome
    fixmedins_code: str = ""
    setl_id: str = ""
    revision: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "outcome": self.outcome.value, "fixmedins_code": self.fixmedins_code,
                "setl_id": self.setl_id, "revision": self.revision, "error": self.error}

    @staticmethod
    def of_dict(d: dict[str, Any]) -> RecordResult:
        return RecordResult(d["index"], RecordOutcome(d["outcome"]), d["fixmedins_code"], d["setl_id"],
                            d["revision"], d["error"])


@dataclass(frozen=True)
class NotJson:
    """A line that did not parse as JSON, kept in its place so that it is answered (refused) in order."""

    why: str


@dataclass
class _Current:
    record_id: int | None
    status: str
    revision: int
    digest: str
    psn_no: str


class RecordIntake:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], joiner: Joiner) -> None:
        self._new_uow = new_uow
        self._joiner = joiner

    async def upload(self, lines: Sequence[Any], *, request_id: str = "", scope: str = "") -> list[RecordResult]:
        """Store a batch of record lines (in order); join what waited for them. Idempotent by request_id, within
        ``scope`` (a prefecture's request ids are its own; "" for the province's and the services')."""
        key = (f"records:{scope}/{request_id}" if scope else f"records:{request_id}") if request_id else None
        digest = hashlib.sha256(orjson.dumps(list(lines), option=orjson.OPT_SORT_KEYS)).hexdigest()
        if key is not None:
            replay = await self._replayed(key, digest, request_id)
            if replay is not None:
                return replay
        try:
            async with self._new_uow() as uow:
                results = await store_records(uow.session, list(enumerate(lines)))
                if key is not None:
                    await uow.lists.save_response(key, digest, [r.as_dict() for r in results])
                await uow.commit()
        except IdempotencyKeyTaken:
            replay = await self._replayed(key or "", digest, request_id)
            if replay is None:
                raise Aborted(f"request_id {request_id} is being processed; retry",
                              reason="REQUEST_IN_FLIGHT") from None
            return replay
        await self.join_after([(r.fixmedins_code, r.setl_id) for r in results if _changed(r)])
        return results

    async def join_after(self, stays: Sequence[Key]) -> None:
        """Join the lists of these stays now; when coding or grouping is unavailable the sweep does it later."""
        if not stays:
            return
        try:
            await self._joiner.run(sorted(set(stays)))
        except MedpayError as failed:
            log.warning("settlement records stored; joining their lists waits: %s", failed.message)

    async def _replayed(self, key: str, digest: str, request_id: str) -> list[RecordResult] | None:
        async with self._new_uow() as uow:
            stored = await uow.lists.stored_response(key)
        if stored is None or stored[1] is None:
            return None
        if stored[0] != digest:
            raise AlreadyExists(f"request_id {request_id} was used before for other records: a replay must "
                                f"carry the same records", reason="REQUEST_ID_REUSED", metadata={"key": key})
        return [RecordResult.of_dict(d) for d in stored[1]]


def _changed(r: RecordResult) -> bool:
    return r.outcome in (RecordOutcome.CREATED, RecordOutcome.REVISED, RecordOutcome.REVERSED)


async def store_records(session: AsyncSession, lines: Sequence[tuple[int, Any]]) -> list[RecordResult]:
    """Store record lines (index, line) in order within the caller's transaction, holding their stays' locks
    until it ends; a line that is not a record is refused (reported), the others stored."""
    results: dict[int, RecordResult] = {}
    read: list[tuple[int, SettlementRecord, Any]] = []
    for index, line in lines:
        if isinstance(line, NotJson):
            results[index] = RecordResult(index, RecordOutcome.REFUSED, error=f"not JSON: {line.why}")
            continue
        try:
            read.append((index, parse_record(line), line))
        except RecordRefused as refused:
            results[index] = RecordResult(index, RecordOutcome.REFUSED, error=str(refused))
    stays = sorted({(r.fixmedins_code, r.setl_id) for _, r, _ in read})
    await lock_keys(session, stays)
    state = {key: _Current(s.record_id, s.status, s.revision, s.digest, s.record.psn_no)
             for key, s in (await current_records(session, stays)).items()}
    changes: list[RecordChange] = []
    for index, record, line in read:
        key = (record.fixmedins_code, record.setl_id)
        current = state.get(key)
        outcome, status, error = _decide(record, current)
        if outcome is RecordOutcome.REFUSED or outcome is RecordOutcome.UNCHANGED:
            results[index] = RecordResult(index, outcome, *key, current.revision if current else 0, error)
            continue
        revision = current.revision + 1 if current else 1
        changes.append(RecordChange(key, current.record_id if current else None, revision, status, record, line))
        state[key] = _Current(current.record_id if current else None, status, revision, record.digest,
                              record.psn_no or (current.psn_no if current else ""))
        results[index] = RecordResult(index, outcome, *key, revision)
    await store_record_changes(session, changes)
    return [results[index] for index, _ in lines]


def _decide(record: SettlementRecord, current: _Current | None) -> tuple[RecordOutcome, str, str]:
    if record.is_reversal:
        if current is not None and current.status == "REVERSED":
            return RecordOutcome.UNCHANGED, "REVERSED", ""
        if current is not None and record.psn_no and record.psn_no != current.psn_no:
            return (RecordOutcome.REFUSED, "", f"setlinfo.psn_no: the reversal names {record.psn_no}, the settlement "
                    f"record {current.psn_no}")
        return RecordOutcome.REVERSED, "REVERSED", ""  # (a reversal of an unknown settlement is kept too)
    if current is not None and current.status == "ACTIVE" and current.digest == record.digest:
        return RecordOutcome.UNCHANGED, "ACTIVE", ""
    return (RecordOutcome.CREATED if current is None else RecordOutcome.REVISED), "ACTIVE", ""
