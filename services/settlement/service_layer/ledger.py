"""Use cases of the ledger: post a finished run (from the run's completion hook), list and get entries, reverse
one, list account balances."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from libs.common.audit import record
from libs.common.db.uow import UnitOfWork
from libs.common.errors import AlreadyExists, InvalidArgument, NotFound
from libs.common.paging import decode_token, encode_token, page_size

from ..adapters.ledger_repository import POSTED_BY_RUN, LedgerRepository
from ..adapters.tables import audit
from ..domain.ledger import AccountTotals, PostedEntry, RunFigures, entries_for_run, reversal, to_post

ENTRY_NAME = re.compile(r"regions/(\d{6})/ledgerEntries/([1-9]\d{0,18})")
INSTITUTION = re.compile(r"H\d{11}")
DEFAULT_PAGE, MAX_PAGE = 100, 1000


def parse_entry_name(name: str, field: str = "name") -> tuple[str, int]:
    match = ENTRY_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument.field(field, "must be regions/{region}/ledgerEntries/{number}")
    return match.group(1), int(match.group(2))


def check_institution(code: str, field: str = "fixmedins_code") -> str:
    if code and not INSTITUTION.fullmatch(code):
        raise InvalidArgument.field(field, "must be H followed by 11 digits")
    return code


async def post_run(repository: LedgerRepository, run: RunFigures) -> tuple[PostedEntry, ...]:
    """Post a finished run's entries in the caller's transaction: the new ones only (a run already posted adds
    nothing; the same key with other lines is LEDGER_KEY_CONFLICT and the caller's transaction fails)."""
    entries = entries_for_run(run)
    await repository.lock_region(run.region)
    fresh = to_post(entries, await repository.by_keys(e.key for e in entries))
    return tuple([await repository.add(e, POSTED_BY_RUN) for e in fresh])


async def post_completed_run(uow: Any, run: RunFigures) -> None:
    """The run-completion hook: the ledger posts the run inside the run's last transaction."""
    await post_run(LedgerRepository(uow.session), run)


@dataclass(frozen=True)
class EntryPage:
    entries: list[PostedEntry]
    next_page_token: str


@dataclass(frozen=True)
class AccountPage:
    accounts: list[AccountTotals]
    next_page_token: str


def _after_sequence(token: str) -> int:
    cursor = decode_token(token)
    if cursor and not (cursor.isdigit() and len(cursor) < 19):  # a 64-bit sequence (another List's token)
        raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return int(cursor or 0)


class Ledger:
    def __init__(self, uows: Callable[[], UnitOfWork]) -> None:
        self._uows = uows

    async def entries(self, region: str, *, fixmedins_code: str, settlement_run: str, size: int,
                      token: str) -> EntryPage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        after = _after_sequence(token)
        async with self._uows() as uow:
            rows = await LedgerRepository(uow.session).page(region, fixmedins_code=fixmedins_code,
                                                            source=settlement_run, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return EntryPage(rows, encode_token(str(rows[-1].sequence)) if more else "")

    async def get(self, name: str) -> PostedEntry:
        region, sequence = parse_entry_name(name)
        async with self._uows() as uow:
            found = await LedgerRepository(uow.session).get(region, sequence)
        if found is None:
            raise NotFound(f"no ledger entry {name}", reason="LEDGER_ENTRY_NOT_FOUND")
        return found

    async def reverse(self, name: str, reason: str, request_id: str, actor: str) -> PostedEntry:
        """Post the reversal of an entry (once); a replayed request_id returns the reversal it posted."""
        region, sequence = parse_entry_name(name)
        if len(reason.strip()) > 1000:
            raise InvalidArgument.field("reason", "at most 1000 characters")
        if not reason.strip():
            raise InvalidArgument.field("reason", "is required")
        async with self._uows() as uow:
            repo = LedgerRepository(uow.session)
            await repo.lock_region(region)
            original = await repo.get(region, sequence)
            if original is None:
                raise NotFound(f"no ledger entry {name}", reason="LEDGER_ENTRY_NOT_FOUND")
            if request_id:
                before = await repo.by_request(region, request_id)
                if before is not None:
                    if (before.entry.reverses, before.entry.memo) != (original.entry.key, reason.strip()):
                        raise AlreadyExists(f"request_id {request_id} was used for another request",
                                            reason="REQUEST_ID_REUSED")
                    return before
            correction = reversal(original.entry, reason, already_reversed=original.reversed_by is not None)
            posted = await repo.add(correction, actor, request_id)
            await record(uow.session, audit, "ledger_entry.reverse", original.name,
                         fixmedins_code=original.entry.fixmedins_code, region=region,
                         detail={"reason": correction.memo, "reversal": posted.name})
            await uow.commit()
        return replace(posted, reverses_sequence=original.sequence)

    async def accounts(self, region: str, *, fixmedins_code: str, size: int, token: str) -> AccountPage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        after = decode_token(token)
        async with self._uows() as uow:
            rows = await LedgerRepository(uow.session).accounts(region, fixmedins_code=fixmedins_code, after=after,
                                                                limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return AccountPage(rows, encode_token(rows[-1].account.account_id) if more else "")
