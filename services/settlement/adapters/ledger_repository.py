"""The journal in PostgreSQL: entries and their lines, inserted only; balances summed from the lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.money import Money

from ..domain.ledger import Account, AccountKind, AccountTotals, Entry, EntryKind, Line, PostedEntry
from .ledger_tables import ledger_entry, ledger_line

POSTED_BY_RUN = "settlement-run"


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_region(self, region: str) -> None:
        """Serialise postings of one region (a transaction-scoped lock): two postings of one key never race."""
        await self._session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"settlement.ledger/{region}"))))

    async def by_keys(self, keys: Iterable[str]) -> dict[str, Entry]:
        wanted = list(keys)
        if not wanted:
            return {}
        rows = (await self._session.execute(select(ledger_entry).where(ledger_entry.c.key.in_(wanted)))).all()
        return {p.entry.key: p.entry for p in await self._with_lines(rows)}

    async def add(self, entry: Entry, posted_by: str, request_id: str = "") -> PostedEntry:
        row = (await self._session.execute(ledger_entry.insert().values(
            key=entry.key, region=entry.region, fixmedins_code=entry.fixmedins_code, kind=entry.kind.value,
            source=entry.source, period=entry.period, memo=entry.memo, reverses=entry.reverses,
            posted_by=posted_by, request_id=request_id).returning(*ledger_entry.c))).one()
        await self._session.execute(ledger_line.insert(), [
            {"entry": row.sequence, "account_id": line.account.account_id, "region": line.account.region,
             "kind": line.account.kind.value, "fixmedins_code": line.account.fixmedins_code,
             "amount": line.amount.fen} for line in entry.lines])
        return PostedEntry(entry, row.sequence, row.posted_by, row.created_at)

    async def get(self, region: str, sequence: int) -> PostedEntry | None:
        rows = (await self._session.execute(select(ledger_entry).where(
            ledger_entry.c.region == region, ledger_entry.c.sequence == sequence))).all()
        found = await self._with_lines(rows)
        return found[0] if found else None

    async def by_request(self, region: str, request_id: str) -> PostedEntry | None:
        rows = (await self._session.execute(select(ledger_entry).where(
            ledger_entry.c.region == region, ledger_entry.c.request_id == request_id))).all()
        found = await self._with_lines(rows)
        return found[0] if found else None

    async def page(self, region: str, *, fixmedins_code: str, source: str, after: int,
                   limit: int) -> list[PostedEntry]:
        """Entries of a region in posting order after the sequence ``after``; of one hospital / run when given."""
        query = select(ledger_entry).where(ledger_entry.c.region == region, ledger_entry.c.sequence > after)
        if fixmedins_code:
            query = query.where(ledger_entry.c.fixmedins_code == fixmedins_code)
        if source:
            query = query.where(ledger_entry.c.source == source)
        rows = (await self._session.execute(query.order_by(ledger_entry.c.sequence).limit(limit))).all()
        return await self._with_lines(rows)

    async def accounts(self, region: str, *, fixmedins_code: str, after: str, limit: int) -> list[AccountTotals]:
        """Debits and credits per account of a region by account id (byte order) after ``after``; only the
        hospital's own accounts when ``fixmedins_code`` is given."""
        debit = func.sum(case((ledger_line.c.amount > 0, ledger_line.c.amount), else_=0))
        credit = func.sum(case((ledger_line.c.amount < 0, -ledger_line.c.amount), else_=0))
        query = select(ledger_line.c.account_id, ledger_line.c.kind, ledger_line.c.fixmedins_code,
                       debit.label("debits"), credit.label("credits")).where(
            ledger_line.c.region == region, ledger_line.c.account_id > after)
        if fixmedins_code:
            query = query.where(ledger_line.c.fixmedins_code == fixmedins_code)
        rows = (await self._session.execute(query.group_by(
            ledger_line.c.account_id, ledger_line.c.kind, ledger_line.c.fixmedins_code).order_by(
            ledger_line.c.account_id).limit(limit))).all()
        return [AccountTotals(Account(region, AccountKind(r.kind), r.fixmedins_code), int(r.debits), int(r.credits))
                for r in rows]

    async def _with_lines(self, rows: Sequence[Any]) -> list[PostedEntry]:
        if not rows:
            return []
        sequences = [r.sequence for r in rows]
        lines: dict[int, list[Line]] = {s: [] for s in sequences}
        for line in (await self._session.execute(select(ledger_line).where(
                ledger_line.c.entry.in_(sequences)).order_by(ledger_line.c.entry, ledger_line.c.account_id))).all():
            account = Account(line.region, AccountKind(line.kind), line.fixmedins_code)
            lines[line.entry].append(Line(account, Money(int(line.amount))))
        keys = [r.key for r in rows]
        reversed_by = {r.reverses: r.sequence for r in (await self._session.execute(
            select(ledger_entry.c.reverses, ledger_entry.c.sequence).where(ledger_entry.c.reverses.in_(keys)))).all()}
        originals = [r.reverses for r in rows if r.reverses]
        sequence_of = {r.key: r.sequence for r in (await self._session.execute(
            select(ledger_entry.c.key, ledger_entry.c.sequence).where(ledger_entry.c.key.in_(originals)))).all()
        } if originals else {}
        return [PostedEntry(Entry(r.key, r.region, r.fixmedins_code, EntryKind(r.kind), r.source, r.period, r.memo,
                                  tuple(lines[r.sequence]), r.reverses),
                            r.sequence, r.posted_by, r.created_at, reversed_by.get(r.key), sequence_of.get(r.reverses))
                for r in rows]
