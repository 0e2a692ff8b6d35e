"""The ledger on PostgreSQL: a run posted in its own transaction (the completion hook), balances equal to the
statements, re-posting that changes nothing, corrections as reversals, and a journal nobody can edit."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from libs.common.errors import AlreadyExists, FailedPrecondition, MedpayError
from libs.common.runtime import Runtime
from services.settlement.bootstrap import SettlementApp, build_app
from services.settlement.domain.ledger import Account, AccountKind
from services.settlement.service_layer.completion import CompletedRun, StatementTotals, complete_run
from services.settlement.service_layer.ledger import Ledger, post_completed_run


@pytest.fixture(scope="module")
async def app(runtime: Runtime) -> AsyncIterator[SettlementApp]:
    built = build_app(runtime)
    yield built
    await built.close()


def region() -> str:
    return f"{random.randrange(100000, 999999)}"


def advance_run(r: str, run_id: str, month: str, *amounts: tuple[str, int, int]) -> CompletedRun:
    """(hospital, advances, adjustments) per statement; balance = advances + adjustments."""
    return CompletedRun(run_id, f"regions/{r}/settlementRuns/{run_id}", r, month, "advance", tuple(
        StatementTotals(code, 0, 0, adv, adj, 0, adv + adj) for code, adv, adj in amounts))


def clearing_run(r: str, run_id: str, *rows: tuple[str, int, int, int, int]) -> CompletedRun:
    """(hospital, gross, assessed, advances over the year, deductions); balance = assessed - advances - ded."""
    return CompletedRun(run_id, f"regions/{r}/settlementRuns/{run_id}", r, "2026", "clearing", tuple(
        StatementTotals(code, g, s, v, 0, d, s - v - d) for code, g, s, v, d in rows))


async def post(app: SettlementApp, run: CompletedRun) -> None:
    async with app.new_uow() as uow:
        await complete_run(uow, run, (post_completed_run,))
        await uow.commit()


async def balances(ledger: Ledger, r: str) -> dict[str, int]:
    page = await ledger.accounts(r, fixmedins_code="", size=1000, token="")
    return {a.account.account_id: a.balance for a in page.accounts}


async def all_entries(ledger: Ledger, r: str) -> list[str]:
    page = await ledger.entries(r, fixmedins_code="", settlement_run="", size=1000, token="")
    return [p.entry.key for p in page.entries]


H1, H2 = "H33070300001", "H33070300002"


async def test_the_balances_equal_the_statements_of_the_runs_posted(app: SettlementApp) -> None:
    r, ledger = region(), Ledger(app.new_uow)
    await post(app, advance_run(r, "m1", "2026-01", (H1, 90_000_00, 0), (H2, 45_000_00, 0)))
    await post(app, advance_run(r, "m2", "2026-02", (H1, 80_000_00, -5_000_00), (H2, 0, 1_234)))
    await post(app, clearing_run(r, "y", (H1, 200_000_00, 196_000_00, 165_000_00, 1_200_00),
                                 (H2, 40_000_00, 40_000_00, 45_012_34, 0)))
    got = await balances(ledger, r)
    assert got == {
        f"{H1}.advances-payable": -(90_000_00 + 75_000_00),
        f"{H1}.deposits-withheld": -(200_000_00 - 196_000_00),
        f"{H1}.clearing-balance": -(196_000_00 - 165_000_00 - 1_200_00),
        f"{H2}.advances-payable": -(45_000_00 + 1_234),
        f"{H2}.clearing-balance": 45_012_34 - 40_000_00,
        "adjustment-fund": -1_200_00,
        "fund-settlement": (90_000_00 + 45_000_00 + 75_000_00 + 1_234 + (200_000_00 - 165_000_00)
                            + (40_000_00 - 45_012_34)),
    }
    assert sum(got.values()) == 0
    assert len(await all_entries(ledger, r)) == 6  # every statement moved money: one entry each


async def test_reposting_a_run_changes_nothing_and_other_figures_under_its_key_are_refused(app: SettlementApp) -> None:
    r, ledger = region(), Ledger(app.new_uow)
    run = advance_run(r, "m1", "2026-01", (H1, 10_000, 0), (H2, 20_000, 0))
    await post(app, run)
    before, keys = await balances(ledger, r), await all_entries(ledger, r)
    await post(app, run)
    async with app.new_uow() as uow:  # the hook alone, twice in one transaction
        await post_completed_run(uow, run)
        await post_completed_run(uow, run)
        await uow.commit()
    assert await balances(ledger, r) == before and await all_entries(ledger, r) == keys
    with pytest.raises(AlreadyExists) as conflict:
        await post(app, advance_run(r, "m1", "2026-01", (H1, 10_001, 0)))
    assert conflict.value.reason == "LEDGER_KEY_CONFLICT"
    assert await balances(ledger, r) == before


async def test_a_statement_that_does_not_add_up_fails_the_run_and_stores_nothing(app: SettlementApp) -> None:
    r, ledger = region(), Ledger(app.new_uow)
    bad = CompletedRun("m1", f"regions/{r}/settlementRuns/m1", r, "2026-01", "advance", (
        StatementTotals(H1, 0, 0, 100, 0, 0, 100), StatementTotals(H2, 0, 0, 100, 0, 0, 99)))
    with pytest.raises(FailedPrecondition) as refused:
        await post(app, bad)
    assert refused.value.reason == "STATEMENT_DOES_NOT_ADD_UP"
    assert await all_entries(ledger, r) == [] and await balances(ledger, r) == {}


async def test_a_correction_reverses_an_entry_once(app: SettlementApp) -> None:
    r, ledger = region(), Ledger(app.new_uow)
    await post(app, advance_run(r, "m1", "2026-01", (H1, 10_000, 0), (H2, 20_000, 0)))
    page = await ledger.entries(r, fixmedins_code=H2, settlement_run="", size=10, token="")
    (h2,) = page.entries
    fix = await ledger.reverse(h2.name, "  advanced on the wrong policy ", "req-1", "prefecture:330700")
    assert fix.entry.reverses == h2.entry.key and fix.entry.memo == "advanced on the wrong policy"
    assert fix.posted_by == "prefecture:330700" and fix.reverses_sequence == h2.sequence
    assert fix.entry.source == h2.entry.source  # a run's filter finds its reversals too
    assert await balances(ledger, r) == {f"{H1}.advances-payable": -10_000, f"{H2}.advances-payable": 0,
                                         "fund-settlement": 10_000}
    assert (await ledger.get(h2.name)).reversed_by == fix.sequence
    replay = await ledger.reverse(h2.name, "advanced on the wrong policy", "req-1", "prefecture:330700")
    assert replay.sequence == fix.sequence
    with pytest.raises(AlreadyExists) as reused:
        await ledger.reverse(h2.name, "another reason", "req-1", "prefecture:330700")
    assert reused.value.reason == "REQUEST_ID_REUSED"
    for name, reason in ((h2.name, "LEDGER_ENTRY_REVERSED"), (fix.name, "LEDGER_ENTRY_IS_REVERSAL")):
        with pytest.raises(FailedPrecondition) as refused:
            await ledger.reverse(name, "again", "", "prefecture:330700")
        assert refused.value.reason == reason
    by_run = await ledger.entries(r, fixmedins_code="", settlement_run=f"regions/{r}/settlementRuns/m1", size=10,
                                  token="")
    assert [p.entry.kind.value for p in by_run.entries] == ["advance", "advance", "reversal"]


async def test_entries_page_in_posting_order_and_accounts_by_id(app: SettlementApp) -> None:
    r, ledger = region(), Ledger(app.new_uow)
    codes = [f"H3307030{i:04d}" for i in range(7)]
    await post(app, advance_run(r, "m1", "2026-01", *((c, 100 + i, 0) for i, c in enumerate(codes))))
    seen, token = [], ""
    while True:
        page = await ledger.entries(r, fixmedins_code="", settlement_run="", size=3, token=token)
        seen += [p.sequence for p in page.entries]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 7 and seen == sorted(seen)
    ids, token = [], ""
    while True:
        accounts = await ledger.accounts(r, fixmedins_code="", size=4, token=token)
        ids += [a.account.account_id for a in accounts.accounts]
        token = accounts.next_page_token
        if not token:
            break
    assert ids == sorted(ids, key=str.encode) and len(ids) == 8
    own = await ledger.accounts(r, fixmedins_code=codes[3], size=10, token="")
    assert [(a.account, a.credits) for a in own.accounts] == [(Account(r, AccountKind.ADVANCES_PAYABLE, codes[3]),
                                                               103)]
    with pytest.raises(MedpayError) as forged:
        await ledger.entries(r, fixmedins_code="", settlement_run="", size=3, token="bm9wZQ==")
    assert forged.value.reason == "INVALID_PAGE_TOKEN"


async def test_the_journal_cannot_be_edited(app: SettlementApp) -> None:
    r = region()
    await post(app, advance_run(r, "m1", "2026-01", (H1, 10_000, 0)))
    for statement in (f"UPDATE settlement.ledger_line SET amount = 0 WHERE region = '{r}'",
                      f"DELETE FROM settlement.ledger_entry WHERE region = '{r}'"):
        async with app.new_uow() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.session.execute(text(statement))
