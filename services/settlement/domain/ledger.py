"""The settlement ledger: a double-entry, append-only journal in integer fen.

Why a journal and not a balance column: every yuan the fund owes a hospital must be traceable to the run that
produced it, and a mistake is corrected by a new entry that reverses the old one, never by editing history.

**Accounts.** Two per region (the fund's side) and three per hospital:

| kind | owner | normal side | holds |
|---|---|---|---|
| ``fund-settlement`` (基金结算支出) | region | debit | what the fund was charged by settlement runs |
| ``adjustment-fund`` (调剂金) | region | credit | deductions the fund kept back |
| ``advances-payable`` (预付应付) | hospital | credit | monthly advances owed to the hospital |
| ``deposits-withheld`` (质量保证金) | hospital | credit | what assessment withheld at year end (gross - assessed) |
| ``clearing-balance`` (清算余额) | hospital | credit | year-end balances owed to the hospital (negative: owed back) |

**Entries.** A line's amount is signed: positive is a debit, negative a credit; the lines of every entry add up to
zero (checked when the entry is built). A settlement run posts one entry per hospital statement:

- a monthly **advance** (statement: advances A, adjustments J, deductions D, balance B = A + J - D):
  debit fund-settlement A + J; credit advances-payable B; credit adjustment-fund D;
- a year-end **clearing** (gross G, assessed S, advances over the year V, adjustments J, deductions D,
  balance B = S - V - D + J): debit fund-settlement G - V + J; credit deposits-withheld G - S; credit
  adjustment-fund D; credit clearing-balance B.

So each hospital account's balance is (minus) a sum of its statements' figures, and a statement whose figures do
not add up cannot be posted. An entry's ``key`` is its idempotency key
(``settlement-run:{region}/{run_id}:{hospital}``): posting a run again proposes the same keys, which are already
there, and changes nothing; the same key with other lines is a conflict, never an overwrite. A **correction** is
a reversing entry (every line negated, ``reverses`` = the original's key) with its own key; an entry is reversed
at most once and a reversal is never reversed itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from libs.common.errors import AlreadyExists, FailedPrecondition
from libs.common.money import Money


class AccountKind(StrEnum):
    FUND_SETTLEMENT = "fund-settlement"
    ADJUSTMENT_FUND = "adjustment-fund"
    ADVANCES_PAYABLE = "advances-payable"
    DEPOSITS_WITHHELD = "deposits-withheld"
    CLEARING_BALANCE = "clearing-balance"

    @property
    def of_fund(self) -> bool:
        """Owned by the region's fund (else by a hospital)."""
        return self in (AccountKind.FUND_SETTLEMENT, AccountKind.ADJUSTMENT_FUND)


FUND_KINDS = tuple(k for k in AccountKind if k.of_fund)
HOSPITAL_KINDS = tuple(k for k in AccountKind if not k.of_fund)


class EntryKind(StrEnum):
    ADVANCE = "advance"
    """Posted by a monthly advance run."""
    CLEARING = "clearing"
    """Posted by a year-end clearing run."""
    REVERSAL = "reversal"
    """A correction: the exact opposite of an earlier entry."""


class LedgerError(FailedPrecondition):
    """An entry that cannot be posted (unbalanced, a statement that does not add up, a second reversal)."""

    def __init__(self, message: str, reason: str = "LEDGER_UNBALANCED") -> None:
        super().__init__(message, reason=reason)


class LedgerKeyConflict(AlreadyExists):
    """An idempotency key already posted with other lines: the journal keeps the first, the caller is told."""

    def __init__(self, key: str) -> None:
        super().__init__(f"ledger entry {key} was already posted with other lines", reason="LEDGER_KEY_CONFLICT",
                         metadata={"key": key})


@dataclass(frozen=True, order=True)
class Account:
    """One account: the region's fund accounts have no institution code, a hospital's carry its own."""

    region: str
    kind: AccountKind
    fixmedins_code: str = ""

    def __post_init__(self) -> None:
        if self.kind.of_fund == bool(self.fixmedins_code):
            owner = "the region's fund" if self.kind.of_fund else "a hospital"
            raise LedgerError(f"account {self.kind} belongs to {owner}", reason="LEDGER_BAD_ACCOUNT")

    @property
    def account_id(self) -> str:
        """``fund-settlement`` or ``H33070300089.advances-payable``: the last segment of its resource name."""
        return f"{self.fixmedins_code}.{self.kind}" if self.fixmedins_code else str(self.kind)

    @classmethod
    def parse_id(cls, region: str, account_id: str) -> Account:
        code, _, kind = account_id.rpartition(".")
        try:
            return cls(region, AccountKind(kind), code)
        except ValueError:
            raise LedgerError(f"{account_id!r} is not a ledger account", reason="LEDGER_BAD_ACCOUNT") from None


@dataclass(frozen=True)
class Line:
    account: Account
    amount: Money
    """Signed: a debit is positive, a credit negative; never zero."""

    @property
    def debit(self) -> Money:
        return self.amount if self.amount.fen > 0 else Money.zero()

    @property
    def credit(self) -> Money:
        return -self.amount if self.amount.fen < 0 else Money.zero()


@dataclass(frozen=True)
class Entry:
    """One balanced journal entry. Built only through :func:`entry` (drops zero lines) or :func:`reversal`."""

    key: str
    region: str
    fixmedins_code: str
    """The hospital the entry concerns (its statement's); every hospital line is on this hospital's accounts."""
    kind: EntryKind
    source: str
    """The settlement run's resource name (a reversal keeps the reversed entry's)."""
    period: str
    """``2026-03`` or ``2026``: the period of the run (of the reversed entry for a reversal)."""
    memo: str
    lines: tuple[Line, ...]
    reverses: str = ""
    """Key of the entry this one reverses (reversals only)."""

    def __post_init__(self) -> None:
        if not self.key:
            raise LedgerError("a ledger entry needs an idempotency key", reason="LEDGER_BAD_ENTRY")
        if not self.lines:
            raise LedgerError(f"ledger entry {self.key} has no lines", reason="LEDGER_BAD_ENTRY")
        for line in self.lines:
            if not line.amount:
                raise LedgerError(f"ledger entry {self.key} has a zero line", reason="LEDGER_BAD_ENTRY")
            if line.account.region != self.region or line.account.fixmedins_code not in ("", self.fixmedins_code):
                raise LedgerError(f"ledger entry {self.key} of {self.region}/{self.fixmedins_code} touches "
                                  f"{line.account.region}/{line.account.account_id}", reason="LEDGER_BAD_ENTRY")
        total = sum((line.amount for line in self.lines), Money.zero())
        if total:
            raise LedgerError(f"ledger entry {self.key} does not balance: debits exceed credits by {total}")
        if (self.kind is EntryKind.REVERSAL) != bool(self.reverses):
            raise LedgerError(f"ledger entry {self.key}: only a reversal names the entry it reverses",
                              reason="LEDGER_BAD_ENTRY")

    @property
    def total(self) -> Money:
        """The sum of the debits (= the sum of the credits)."""
        return sum((line.debit for line in self.lines), Money.zero())

    def same_posting(self, other: Entry) -> bool:
        """Whether ``other`` posts exactly this (lines compared as a set of (account, amount))."""
        return (self.key, self.region, self.fixmedins_code, self.kind, self.source, self.period, self.reverses,
                _line_set(self.lines)) == (other.key, other.region, other.fixmedins_code, other.kind, other.source,
                                            other.period, other.reverses, _line_set(other.lines))


def _line_set(lines: Iterable[Line]) -> tuple[tuple[Account, int], ...]:
    return tuple(sorted((line.account, line.amount.fen) for line in lines))


def entry(key: str, kind: EntryKind, amounts: Sequence[tuple[Account, int]], *, region: str, fixmedins_code: str,
          source: str, period: str, memo: str) -> Entry | None:
    """An entry of the non-zero ``(account, signed fen)`` pairs (one line per account, amounts summed);
    ``None`` when every amount is zero (a statement of nothing posts nothing)."""
    summed: dict[Account, int] = {}
    for account, fen in amounts:
        summed[account] = summed.get(account, 0) + fen
    lines = tuple(Line(account, Money(fen)) for account, fen in summed.items() if fen)
    if not lines:
        return None
    return Entry(key, region, fixmedins_code, kind, source, period, memo, lines)


# -- posting a settlement run ------------------------------------------------------------------------------------

class StatementFigures(Protocol):
    """What the ledger reads of a hospital statement (the settlement run's ``StatementTotals``), in fen."""

    @property
    def fixmedins_code(self) -> str: ...
    @property
    def gross(self) -> int: ...
    @property
    def assessed(self) -> int: ...
    @property
    def advances(self) -> int: ...
    @property
    def adjustments(self) -> int: ...
    @property
    def deductions(self) -> int: ...
    @property
    def balance(self) -> int: ...


class RunFigures(Protocol):
    """What the ledger reads of a finished settlement run (the run's ``CompletedRun``)."""

    @property
    def run_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def run_type(self) -> str: ...
    @property
    def statements(self) -> Sequence[StatementFigures]: ...


RUN_TYPES = {"advance": EntryKind.ADVANCE, "clearing": EntryKind.CLEARING}


def run_entry_key(region: str, run_id: str, fixmedins_code: str) -> str:
    return f"settlement-run:{region}/{run_id}:{fixmedins_code}"


def entries_for_run(run: RunFigures) -> tuple[Entry, ...]:
    """The entries a run posts: one per hospital statement that moves money, by institution code."""
    kind = RUN_TYPES.get(run.run_type)
    if kind is None:
        raise LedgerError(f"run {run.name}: unknown run type {run.run_type!r}", reason="LEDGER_BAD_ENTRY")
    out = []
    for s in sorted(run.statements, key=lambda s: s.fixmedins_code):
        made = entry(run_entry_key(run.region, run.run_id, s.fixmedins_code), kind, _amounts(run, kind, s),
                     region=run.region, fixmedins_code=s.fixmedins_code, source=run.name, period=run.period,
                     memo=f"{kind.value} {run.period}")
        if made is not None:
            out.append(made)
    return tuple(out)


def _amounts(run: RunFigures, kind: EntryKind, s: StatementFigures) -> list[tuple[Account, int]]:
    region, code = run.region, s.fixmedins_code

    def fund(k: AccountKind) -> Account:
        return Account(region, k)

    def hospital(k: AccountKind) -> Account:
        return Account(region, k, code)

    if kind is EntryKind.ADVANCE:
        expected = s.advances + s.adjustments - s.deductions
        amounts = [(fund(AccountKind.FUND_SETTLEMENT), s.advances + s.adjustments),
                   (hospital(AccountKind.ADVANCES_PAYABLE), -s.balance),
                   (fund(AccountKind.ADJUSTMENT_FUND), -s.deductions)]
        formula = "advances + adjustments - deductions"
    else:
        expected = s.assessed - s.advances - s.deductions + s.adjustments
        amounts = [(fund(AccountKind.FUND_SETTLEMENT), s.gross - s.advances + s.adjustments),
                   (hospital(AccountKind.DEPOSITS_WITHHELD), -(s.gross - s.assessed)),
                   (fund(AccountKind.ADJUSTMENT_FUND), -s.deductions),
                   (hospital(AccountKind.CLEARING_BALANCE), -s.balance)]
        formula = "assessed - advances - deductions + adjustments"
    if s.balance != expected:
        raise LedgerError(f"run {run.name}: the statement of {code} does not add up: balance {Money(s.balance)} "
                          f"is not {formula} = {Money(expected)}", reason="STATEMENT_DOES_NOT_ADD_UP")
    return amounts


# -- idempotent posting and corrections ---------------------------------------------------------------------------

def to_post(proposed: Iterable[Entry], posted: Mapping[str, Entry]) -> tuple[Entry, ...]:
    """The entries of ``proposed`` not yet in the journal (``posted``: key -> entry). A key already posted with
    the same lines is skipped (re-posting changes nothing); with other lines it is a :class:`LedgerKeyConflict`."""
    new: list[Entry] = []
    seen: set[str] = set()
    for candidate in proposed:
        if candidate.key in seen:
            raise LedgerKeyConflict(candidate.key)
        seen.add(candidate.key)
        before = posted.get(candidate.key)
        if before is None:
            new.append(candidate)
        elif not before.same_posting(candidate):
            raise LedgerKeyConflict(candidate.key)
    return tuple(new)


def reversal_key(original_key: str) -> str:
    return f"reversal:{original_key}"


def reversal(original: Entry, reason: str, *, already_reversed: bool) -> Entry:
    """The correction of ``original``: every line negated, keyed by the original (so once per entry)."""
    if original.kind is EntryKind.REVERSAL:
        raise LedgerError(f"ledger entry {original.key} is a reversal; post a new entry instead of reversing it",
                          reason="LEDGER_ENTRY_IS_REVERSAL")
    if already_reversed:
        raise LedgerError(f"ledger entry {original.key} is already reversed", reason="LEDGER_ENTRY_REVERSED")
    if not reason.strip():
        raise LedgerError("a reversal needs a reason", reason="LEDGER_BAD_ENTRY")
    lines = tuple(Line(line.account, -line.amount) for line in original.lines)
    return Entry(reversal_key(original.key), original.region, original.fixmedins_code, EntryKind.REVERSAL,
                 original.source, original.period, reason.strip(), lines, reverses=original.key)


@dataclass(frozen=True)
class PostedEntry:
    """An entry as the journal holds it: its posting sequence (its resource id), who posted it and when, and the
    sequence of its reversal once there is one."""

    entry: Entry
    sequence: int
    posted_by: str
    posted_at: datetime
    reversed_by: int | None = None
    reverses_sequence: int | None = None
    """For a reversal, the sequence of the entry it reverses."""

    @property
    def name(self) -> str:
        return entry_name(self.entry.region, self.sequence)


def entry_name(region: str, sequence: int) -> str:
    return f"regions/{region}/ledgerEntries/{sequence}"


def account_name(account: Account) -> str:
    return f"regions/{account.region}/ledgerAccounts/{account.account_id}"


@dataclass(frozen=True)
class AccountTotals:
    """One account's debits and credits (both >= 0, fen) over every entry on it."""

    account: Account
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        """Debit-positive: a hospital account the fund owes money on has a negative balance."""
        return self.debits - self.credits


# -- balances ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balances:
    """Account balances of a set of entries: debit-positive fen per account (absent = zero)."""

    by_account: Mapping[Account, int] = field(default_factory=dict)

    def of(self, account: Account) -> Money:
        return Money(self.by_account.get(account, 0))

    @property
    def total(self) -> Money:
        """Always zero for balanced entries: the trial balance."""
        return Money(sum(self.by_account.values()))


def balances(entries: Iterable[Entry]) -> Balances:
    sums: dict[Account, int] = {}
    for e in entries:
        for line in e.lines:
            sums[line.account] = sums.get(line.account, 0) + line.amount.fen
    return Balances({a: fen for a, fen in sorted(sums.items()) if fen})
