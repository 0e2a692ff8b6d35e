"""Uploading a settlement list: the idempotency key first, then the list meets its settlement record (if it
is there), quality control and grouping, and storage, in one transaction.

A replay of an acknowledged upload is answered from the stored response before anything else runs (even with
coding or grouping down). Otherwise the transaction takes the stay's lock (institution, ``setl_id``: the record
intake and the joiner take it too), reads the stay's settlement record, decides (ACTIVE: checked and grouped;
PENDING: waiting for its record; or rejected) and stores the outcome with the idempotency key and the response.
A concurrent duplicate waits on the lock and then fails on the key as a whole: it answers with the stored
response. A crash before commit leaves nothing, so the client's resend is processed afresh; after commit every
replay gets the original response. The same key with different content is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from libs.common.errors import Aborted, AlreadyExists

from ..adapters.records import StoredRecord, current_records, lock_keys
from ..adapters.repository import PENDING_ID_TOKEN, PENDING_REVISION_TOKEN, IdempotencyKeyTaken
from ..domain.envelope import error_message
from ..domain.limits import bounded
from ..domain.model import Finding, GroupRow, ListStatus
from ..domain.parsing import parse_list
from ..domain.qc import RULESET_VERSION
from .cases import CaseChecker, Verdict
from .unit_of_work import CollectionUnitOfWork


@dataclass(frozen=True)
class UploadCommand:
    """One list to upload. ``key`` is the idempotency key ("msgid:<code>:<msgid>" or "request:<id>") or None."""

    key: str | None
    digest: str
    fixmedins_code: str
    fixmedins_name: str
    body: Any


@dataclass(frozen=True)
class Accepted:
    """A stored list: ACTIVE (checked and grouped) or PENDING (waiting for its settlement record, no group)."""

    setl_list_id: str
    revision: int
    warnings: tuple[Finding, ...]
    group: GroupRow | None
    status: ListStatus = ListStatus.ACTIVE


@dataclass(frozen=True)
class Rejected:
    findings: tuple[Finding, ...]


def accepted_output(outcome: Accepted) -> dict[str, Any]:
    """The ``output`` of an accepted (or pending) 4101A upload, the same for the door and a bulk import."""
    return output_of_accepted(outcome.setl_list_id, outcome.revision, outcome.warnings, outcome.group, outcome.status)


def output_of_accepted(setl_list_id: str, revision: int, warnings: Sequence[Finding], group: GroupRow | None,
                       status: ListStatus) -> dict[str, Any]:
    """``accepted_output`` of an ``Accepted`` of these values, without building it (a bulk import makes one a
    list)."""
    return {"setl_list_id": setl_list_id, "revision": revision, "status": status.value,
            "drg": group.drg if group else "", "warnings": [w.as_dict() for w in warnings]}


def rejected_output(outcome: Rejected) -> tuple[str, dict[str, Any]]:
    """The ``err_msg`` and ``output`` of a rejected 4101A upload."""
    return error_message(list(outcome.findings)), {"findings": [f.as_dict() for f in outcome.findings]}


Outcome = Accepted | Rejected

# Placeholders of a response rendered before the list id and revision are known (see Uploads._store).
PENDING_ID = PENDING_ID_TOKEN
PENDING_REVISION = PENDING_REVISION_TOKEN
Render = Callable[[Outcome], Any]
"""Turns an outcome into the response to store and return (an HTTP envelope, a dict for gRPC)."""


@dataclass(frozen=True)
class UploadResult:
    response: Any
    replayed: bool


class Uploads:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], checker: CaseChecker) -> None:
        self._new_uow = new_uow
        self._checker = checker

    async def upload(self, cmd: UploadCommand, render: Render) -> UploadResult:
        if cmd.key is not None:
            replay = await self._stored(cmd)
            if replay is not None:
                return replay
        parsed, problems = parse_list(cmd.fixmedins_code, cmd.fixmedins_name, cmd.body)
        stay = (parsed.fixmedins_code, parsed.setl_id) if parsed is not None else None
        verdict = None
        if parsed is not None and stay is not None:
            # Checked and grouped before the storing transaction (no connection is held over the calls to
            # coding and grouping); the transaction then makes sure the record is still the one it met.
            async with self._new_uow() as uow:
                record = (await current_records(uow.session, [stay])).get(stay)
            verdict = (await self._checker.check([(parsed, record)]))[0]
        try:
            async with self._new_uow() as uow:
                if parsed is None or stay is None or verdict is None:
                    response = await self._reject(uow, cmd, problems, render)
                else:
                    await lock_keys(uow.session, [stay])
                    now = (await current_records(uow.session, [stay])).get(stay)
                    if _seen(now) != _seen(record):  # the record arrived or changed meanwhile: decide again
                        verdict = (await self._checker.check([(parsed, now)]))[0]
                    if verdict.status is ListStatus.REJECTED:
                        response = await self._reject(uow, cmd, list(verdict.errors), render)
                    else:
                        response = await self._store(uow, cmd, verdict, render)
                await uow.commit()
        except IdempotencyKeyTaken:
            return await self._replay(cmd)
        return UploadResult(response, replayed=False)

    async def _stored(self, cmd: UploadCommand) -> UploadResult | None:
        """The stored answer to this key, when it was used before (``REQUEST_ID_REUSED`` for other content)."""
        async with self._new_uow() as uow:
            stored = await uow.lists.stored_response(cmd.key or "")
        if stored is None or stored[1] is None:
            return None
        return self._answer(cmd, *stored)

    async def _replay(self, cmd: UploadCommand) -> UploadResult:
        async with self._new_uow() as uow:
            stored = await uow.lists.stored_response(cmd.key or "")
        if stored is None or stored[1] is None:  # the holder rolled back (e.g. an upstream failure): retry
            raise Aborted(f"{cmd.key} is being processed by another request; retry", reason="REQUEST_IN_FLIGHT")
        return self._answer(cmd, *stored)

    @staticmethod
    def _answer(cmd: UploadCommand, digest: str, response: Any) -> UploadResult:
        if digest != cmd.digest:
            raise AlreadyExists(f"{cmd.key.split(':', 1)[0] if cmd.key else 'key'} was used before for a different "
                                f"list: a replay must carry the same content", reason="REQUEST_ID_REUSED",
                                metadata={"key": cmd.key or ""})
        return UploadResult(response, replayed=True)

    async def _reject(self, uow: CollectionUnitOfWork, cmd: UploadCommand, findings: list[Finding],
                      render: Render) -> Any:
        response = render(Rejected(bounded(findings)))
        await uow.lists.save_rejection(cmd.key, cmd.digest, fixmedins_code=cmd.fixmedins_code,
                                       setl_id=_setl_id(cmd.body), findings=findings, response=response)
        return response

    async def _store(self, uow: CollectionUnitOfWork, cmd: UploadCommand, verdict: Verdict, render: Render) -> Any:
        warnings = bounded(verdict.findings)
        pending = Accepted(PENDING_ID, PENDING_REVISION, warnings, verdict.group, verdict.status)
        # The response is rendered now with placeholders for the list id and revision, which only the storing
        # statement learns; it fills them in as it stores the response with the idempotency key.
        template = render(pending) if cmd.key is not None else None
        setl_list_id, revision, stored = await uow.lists.save_accepted(
            verdict.case, cmd.key, cmd.digest, warnings=warnings, group=verdict.group,
            ruleset=RULESET_VERSION, hospital_level=verdict.hospital_level, status=verdict.status,
            record_revision=verdict.record_revision, response_template=template)
        if stored is not None:
            return stored
        return render(Accepted(setl_list_id, revision, warnings, verdict.group, verdict.status))


def _seen(stored: StoredRecord | None) -> tuple[int, str] | None:
    return (stored.revision, stored.status) if stored is not None else None


def _setl_id(body: Any) -> str:
    """The setl_id for the rejection record: at most its 30 characters (a rejection may carry any value)."""
    setlinfo = body.get("setlinfo") if isinstance(body, dict) else None
    return str(setlinfo.get("setl_id") or "")[:30] if isinstance(setlinfo, dict) else ""
