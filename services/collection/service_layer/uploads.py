"""Uploading a settlement list: quality control, grouping, then storage in one statement.

The outcome (the list with its revision, group, findings and status change, or the rejection record) and the
idempotency row with the response are written by one SQL statement, so they commit together or not at all.
The idempotency key is unique: a concurrent duplicate's statement fails on it as a whole (after waiting for
the first to commit) and the duplicate answers with the stored response; a crash before commit leaves nothing,
so the client's resend is processed afresh; after commit every replay gets the original response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from libs.common.errors import AlreadyExists

from ..adapters.clients import CodingClient, GroupingClient
from ..adapters.repository import PENDING_ID_TOKEN, PENDING_REVISION_TOKEN, IdempotencyKeyTaken
from ..domain.limits import bounded
from ..domain.model import Finding, GroupRow, ParsedList, Severity
from ..domain.parsing import parse_list
from ..domain.qc import RULESET_VERSION, run_qc
from ..domain.schemes import SchemeSchedule
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
    setl_list_id: str
    revision: int
    warnings: tuple[Finding, ...]
    group: GroupRow | None


@dataclass(frozen=True)
class Rejected:
    findings: tuple[Finding, ...]


Outcome = Accepted | Rejected


@dataclass(frozen=True)
class Decided:
    """An accepted list before it is stored: what QC and grouping decided, and the hospital's level."""

    parsed: ParsedList
    accepted: Accepted
    hospital_level: int

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
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], coding: CodingClient, grouping: GroupingClient,
                 schedule: SchemeSchedule, *, new_statement_uow: Callable[[], CollectionUnitOfWork] | None = None
                 ) -> None:
        self._new_uow = new_uow
        # The store is a single statement: run it without BEGIN/COMMIT round trips when an autocommit unit of
        # work is given (it is atomic on its own).
        self._new_statement_uow = new_statement_uow or new_uow
        self._coding = coding
        self._grouping = grouping
        self._schedule = schedule

    async def upload(self, cmd: UploadCommand, render: Render) -> UploadResult:
        decided = await self._decide(cmd)
        try:
            async with self._new_statement_uow() as uow:
                response = await self._store(uow, cmd, decided, render)
                await uow.commit()
        except IdempotencyKeyTaken:
            return await self._replay(cmd)
        return UploadResult(response, replayed=False)

    async def _replay(self, cmd: UploadCommand) -> UploadResult:
        async with self._new_uow() as uow:
            stored = await uow.lists.stored_response(cmd.key or "")
        if stored is None:  # the holder rolled back (e.g. an upstream failure): the caller may retry
            raise AlreadyExists(f"{cmd.key} is being processed by another request; retry", reason="REQUEST_IN_FLIGHT")
        digest, response = stored
        if digest != cmd.digest:
            raise AlreadyExists(f"{cmd.key.split(':', 1)[0] if cmd.key else 'key'} was used before for a different "
                                f"list: a replay must carry the same content", reason="REQUEST_ID_REUSED",
                                metadata={"key": cmd.key or ""})
        return UploadResult(response, replayed=True)

    async def _decide(self, cmd: UploadCommand) -> Rejected | Decided:
        """Quality control and grouping, before anything is written."""
        parsed, findings = parse_list(cmd.fixmedins_code, cmd.fixmedins_name, cmd.body)
        if parsed is not None:
            findings = await self.quality(parsed)
        errors = tuple(f for f in findings if f.severity is Severity.ERROR)
        if parsed is None or errors:
            return Rejected(bounded(errors or tuple(findings)))
        group = (await self._grouping.group(self.scheme_for(parsed), [parsed.facts]))[0]
        level = (await self._coding.hospital_levels([parsed.fixmedins_code]))[parsed.fixmedins_code]
        return Decided(parsed, Accepted(PENDING_ID, PENDING_REVISION, bounded(findings), group), level)

    async def _store(self, uow: CollectionUnitOfWork, cmd: UploadCommand, decided: Rejected | Decided,
                     render: Render) -> Any:
        if isinstance(decided, Rejected):
            response = render(decided)
            await uow.lists.save_rejection(cmd.key, cmd.digest, fixmedins_code=cmd.fixmedins_code,
                                           setl_id=_setl_id(cmd.body), findings=decided.findings, response=response)
            return response
        parsed, pending = decided.parsed, decided.accepted
        # The response is rendered now with placeholders for the list id and revision, which only the storing
        # statement learns; it fills them in as it stores the response with the idempotency key.
        template = render(pending) if cmd.key is not None else None
        setl_list_id, revision, stored = await uow.lists.save_accepted(
            parsed, cmd.key, cmd.digest, warnings=pending.warnings, group=pending.group, ruleset=RULESET_VERSION,
            hospital_level=decided.hospital_level, response_template=template)
        if stored is not None:
            return stored
        return render(Accepted(setl_list_id, revision, pending.warnings, pending.group))

    async def quality(self, parsed: ParsedList) -> list[Finding]:
        return (await self.quality_many([parsed]))[0]

    async def quality_many(self, lists: list[ParsedList]) -> list[list[Finding]]:
        """QC of many lists with their codes validated in one batch (one ValidateCodes call, not one per list)."""
        pairs = {(f.system_id, f.code) for p in lists for f in p.coded}
        verdicts = await self._coding.verdicts(pairs)
        return [run_qc(p, verdicts) for p in lists]

    async def hospital_levels(self, institutions: set[str]) -> dict[str, int]:
        return await self._coding.hospital_levels(institutions)

    def scheme_for(self, parsed: ParsedList) -> str:
        return self._schedule.scheme_for(parsed.region, parsed.discharge_date)


def _setl_id(body: Any) -> str:
    """The setl_id for the rejection record: at most its 30 characters (a rejection may carry any value)."""
    setlinfo = body.get("setlinfo") if isinstance(body, dict) else None
    return str(setlinfo.get("setl_id") or "")[:30] if isinstance(setlinfo, dict) else ""
