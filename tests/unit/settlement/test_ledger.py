"""The ledger's journal: every entry balances, account balances equal the statements, re-posting changes nothing,
a correction reverses. Expected balances are computed here from the statements by the chart of accounts in
services/settlement/domain/ledger.py's docstring, not by the code under test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.errors import AlreadyExists, FailedPrecondition
from libs.common.money import Money
from services.settlement.domain.ledger import (
    Account,
    AccountKind,
    Entry,
    EntryKind,
    LedgerError,
    LedgerKeyConflict,
    Line,
    balances,
    entries_for_run,
    reversal,
    to_post,
)

REGION = "330700"


@dataclass(frozen=True)
class Statement:
    fixmedins_code: str
    gross: int
    assessed: int
    advances: int
    adjustments: int
    deductions: int
    balance: int


@dataclass(frozen=True)
class Run:
    run_id: str
    region: str
    period: str
    run_type: str
    statements: tuple[Statement, ...]

    @property
    def name(self) -> str:
        return f"regions/{self.region}/settlementRuns/{self.run_id}"


def advance(code: str, advances: int, adjustments: int = 0, deductions: int = 0) -> Statement:
    return Statement(code, 0, 0, advances, adjustments, deductions, advances + adjustments - deductions)


def clearing(code: str, gross: int, assessed: int, advances: int, *, deductions: int = 0,
             adjustments: int = 0) -> Statement:
    return Statement(code, gross, assessed, advances, adjustments, deductions,
                     assessed - advances - deductions + adjustments)


def account(kind: AccountKind, code: str = "") -> Account:
    return Account(REGION, kind, code)


def test_an_advance_run_posts_one_balanced_entry_per_hospital() -> None:
    run = Run("2026-03-advance", REGION, "2026-03", "advance",
              (advance("H33070300002", 90_000_00, deductions=1_000_00), advance("H33070300001", 50_000_00)))
    entries = entries_for_run(run)
    assert [e.fixmedins_code for e in entries] == ["H33070300001", "H33070300002"]
    assert entries[1].key == "settlement-run:330700/2026-03-advance:H33070300002"
    assert entries[1].source == run.name and entries[1].kind is EntryKind.ADVANCE
    assert {(line.account.kind, line.amount.fen) for line in entries[1].lines} == {
        (AccountKind.FUND_SETTLEMENT, 90_000_00), (AccountKind.ADVANCES_PAYABLE, -89_000_00),
        (AccountKind.ADJUSTMENT_FUND, -1_000_00)}
    assert entries[1].total == Money(90_000_00)
    assert entries[0].lines[0].debit == Money(50_000_00) and entries[0].lines[1].credit == Money(50_000_00)


def test_a_clearing_run_withholds_the_assessment_and_books_the_balance() -> None:
    run = Run("2026-clearing", REGION, "2026", "clearing",
              (clearing("H33070300001", gross=1_000_000, assessed=980_000, advances=900_000, deductions=12_000),))
    (e,) = entries_for_run(run)
    got = {line.account: line.amount.fen for line in e.lines}
    assert got == {account(AccountKind.FUND_SETTLEMENT): 100_000,
                   account(AccountKind.DEPOSITS_WITHHELD, "H33070300001"): -20_000,
                   account(AccountKind.ADJUSTMENT_FUND): -12_000,
                   account(AccountKind.CLEARING_BALANCE, "H33070300001"): -68_000}


def test_a_hospital_that_owes_money_back_gets_a_debit_on_its_clearing_balance() -> None:
    run = Run("2026-clearing", REGION, "2026", "clearing",
              (clearing("H33070300001", gross=800_000, assessed=800_000, advances=900_000),))
    (e,) = entries_for_run(run)
    assert {line.account.kind: line.amount.fen for line in e.lines} == {
        AccountKind.FUND_SETTLEMENT: -100_000, AccountKind.CLEARING_BALANCE: 100_000}


def test_a_statement_of_nothing_posts_nothing() -> None:
    assert entries_for_run(Run("r", REGION, "2026-03", "advance", (advance("H33070300001", 0),))) == ()


def test_a_statement_that_does_not_add_up_is_refused() -> None:
    bad = Statement("H33070300001", 0, 0, 100, 0, 0, 99)
    with pytest.raises(LedgerError) as refused:
        entries_for_run(Run("r", REGION, "2026-03", "advance", (bad,)))
    assert refused.value.reason == "STATEMENT_DOES_NOT_ADD_UP" and "H33070300001" in refused.value.message


def test_an_unknown_run_type_is_refused() -> None:
    with pytest.raises(LedgerError, match="unknown run type"):
        entries_for_run(Run("r", REGION, "2026-03", "weekly", (advance("H33070300001", 5),)))


def test_an_unbalanced_entry_cannot_exist() -> None:
    lines = (Line(account(AccountKind.FUND_SETTLEMENT), Money(100)),
             Line(account(AccountKind.ADVANCES_PAYABLE, "H33070300001"), Money(-99)))
    with pytest.raises(LedgerError, match="does not balance"):
        Entry("k", REGION, "H33070300001", EntryKind.ADVANCE, "run", "2026-03", "", lines)


def test_an_entry_touches_only_its_own_hospital_and_region() -> None:
    lines = (Line(account(AccountKind.FUND_SETTLEMENT), Money(100)),
             Line(account(AccountKind.ADVANCES_PAYABLE, "H33070300009"), Money(-100)))
    with pytest.raises(LedgerError, match="touches"):
        Entry("k", REGION, "H33070300001", EntryKind.ADVANCE, "run", "2026-03", "", lines)
    with pytest.raises(LedgerError, match="belongs to"):
        Account(REGION, AccountKind.FUND_SETTLEMENT, "H33070300001")
    with pytest.raises(LedgerError, match="belongs to"):
        Account(REGION, AccountKind.CLEARING_BALANCE)


def test_account_ids_round_trip() -> None:
    for a in (account(AccountKind.ADJUSTMENT_FUND), account(AccountKind.ADVANCES_PAYABLE, "H33070300001")):
        assert Account.parse_id(REGION, a.account_id) == a
    with pytest.raises(LedgerError):
        Account.parse_id(REGION, "H33070300001.savings")


def test_reposting_the_same_run_proposes_nothing_and_other_lines_conflict() -> None:
    run = Run("2026-03-advance", REGION, "2026-03", "advance", (advance("H33070300001", 500),))
    posted = {e.key: e for e in entries_for_run(run)}
    assert to_post(entries_for_run(run), posted) == ()
    changed = Run("2026-03-advance", REGION, "2026-03", "advance", (advance("H33070300001", 501),))
    with pytest.raises(LedgerKeyConflict) as conflict:
        to_post(entries_for_run(changed), posted)
    assert isinstance(conflict.value, AlreadyExists) and conflict.value.reason == "LEDGER_KEY_CONFLICT"


def test_a_correction_reverses_once_and_is_not_reversed_itself() -> None:
    run = Run("2026-03-advance", REGION, "2026-03", "advance", (advance("H33070300001", 500, deductions=20),))
    (original,) = entries_for_run(run)
    correction = reversal(original, "wrong policy version", already_reversed=False)
    assert correction.reverses == original.key and correction.kind is EntryKind.REVERSAL
    assert balances([original, correction]).by_account == {}
    with pytest.raises(LedgerError) as twice:
        reversal(original, "again", already_reversed=True)
    assert twice.value.reason == "LEDGER_ENTRY_REVERSED"
    with pytest.raises(LedgerError) as of_reversal:
        reversal(correction, "undo", already_reversed=False)
    assert of_reversal.value.reason == "LEDGER_ENTRY_IS_REVERSAL"
    with pytest.raises(FailedPrecondition):
        reversal(original, "  ", already_reversed=False)


# -- properties ---------------------------------------------------------------------------------------------------

CODES = [f"H3307030000{i}" for i in range(1, 6)]
fen = st.integers(min_value=0, max_value=10**9)
signed = st.integers(min_value=-10**8, max_value=10**8)


@st.composite
def advance_statements(draw: st.DrawFn, code: str) -> Statement:
    return advance(code, draw(fen), draw(signed), draw(st.integers(0, 10**7)))


@st.composite
def clearing_statements(draw: st.DrawFn, code: str) -> Statement:
    gross = draw(fen)
    assessed = draw(st.integers(0, gross))
    return clearing(code, gross, assessed, draw(fen), deductions=draw(st.integers(0, 10**7)), adjustments=draw(signed))


@st.composite
def runs(draw: st.DrawFn) -> list[Run]:
    out = []
    for number in range(draw(st.integers(1, 6))):
        run_type = draw(st.sampled_from(["advance", "clearing"]))
        codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
        make = advance_statements if run_type == "advance" else clearing_statements
        statements = tuple(draw(make(code)) for code in codes)
        out.append(Run(f"run-{number}", REGION, "2026-03" if run_type == "advance" else "2026", run_type,
                       statements))
    return out


def expected_balances(all_runs: list[Run]) -> dict[Account, int]:
    """The chart of accounts, written out: what each account must hold after the runs."""
    want: dict[Account, int] = {}

    def add(a: Account, fen_amount: int) -> None:
        want[a] = want.get(a, 0) + fen_amount

    for run in all_runs:
        for s in run.statements:
            add(account(AccountKind.ADJUSTMENT_FUND), -s.deductions)
            if run.run_type == "advance":
                add(account(AccountKind.FUND_SETTLEMENT), s.advances + s.adjustments)
                add(account(AccountKind.ADVANCES_PAYABLE, s.fixmedins_code), -s.balance)
            else:
                add(account(AccountKind.FUND_SETTLEMENT), s.gross - s.advances + s.adjustments)
                add(account(AccountKind.DEPOSITS_WITHHELD, s.fixmedins_code), s.assessed - s.gross)
                add(account(AccountKind.CLEARING_BALANCE, s.fixmedins_code), -s.balance)
    return {a: v for a, v in want.items() if v}


@settings(max_examples=200, deadline=None)
@given(runs())
def test_every_entry_balances_and_balances_equal_the_statements(all_runs: list[Run]) -> None:
    journal: dict[str, Entry] = {}
    for run in all_runs:
        for e in to_post(entries_for_run(run), journal):
            assert sum(line.amount.fen for line in e.lines) == 0
            assert all(line.amount.fen != 0 for line in e.lines)
            journal[e.key] = e
    got = balances(journal.values())
    assert dict(got.by_account) == expected_balances(all_runs)
    assert got.total == Money.zero()


@settings(max_examples=100, deadline=None)
@given(runs(), st.data())
def test_reposting_changes_nothing_and_reversals_take_entries_out(all_runs: list[Run], data: st.DataObject) -> None:
    journal: dict[str, Entry] = {}
    for run in all_runs:
        journal.update({e.key: e for e in to_post(entries_for_run(run), journal)})
    before = balances(journal.values())
    for run in all_runs:
        assert to_post(entries_for_run(run), journal) == ()
    assert balances(journal.values()) == before
    if not journal:
        return
    keys = data.draw(st.lists(st.sampled_from(sorted(journal)), unique=True, min_size=1))
    for key in keys:
        fix = reversal(journal[key], "correction", already_reversed=False)
        journal[fix.key] = fix
    kept = [e for key, e in journal.items() if key not in keys and not e.reverses]
    assert balances(journal.values()) == balances(kept)
