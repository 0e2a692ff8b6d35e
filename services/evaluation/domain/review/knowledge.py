"""The knowledge library (知识库) of items: sex and age limits, daily quantity caps, exclusive pairs.

Read from CONTRACT.md's ``items.csv`` rows (the adapter reads the file; this module checks every row and names
every problem with its line). A library is versioned with an effective date, like the code tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from libs.national.fees import scaled

HEADER = ("code", "name", "kind", "med_chrgitm_type", "price", "sex_limit", "min_age", "max_age", "max_daily_cnt",
          "exclusive_with")
KINDS = frozenset({"drug", "service", "consumable"})
FEE_CATEGORIES = frozenset(f"{i:02d}" for i in range(1, 15))
MAX_AGE = 150
Complaint = Callable[[str, str], None]


class KnowledgeError(ValueError):
    """A knowledge file that cannot be used: every problem, each with its line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20
                                                      else ""))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class KnowledgeItem:
    """One item. ``price`` and ``max_daily_cnt`` in millionths (``SCALE``); ``None`` where the file leaves it empty."""

    code: str
    name: str
    kind: str
    category: str
    price: int | None
    sex_limit: int | None
    min_age: int | None
    max_age: int | None
    max_daily_cnt: int | None
    exclusive_with: tuple[str, ...]

    def allows_age(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)

    def age_limits(self) -> str:
        low = "" if self.min_age is None else f"{self.min_age}"
        high = "" if self.max_age is None else f"{self.max_age}"
        return f"{low or '0'}-{high}" if high else f">= {low}"


@dataclass(frozen=True)
class KnowledgeLibrary:
    """Items by code, with the exclusive pairs made symmetric: if A excludes B, a stay with both breaks the rule
    whichever of the two the file lists the pair under."""

    version: str
    effective_from: date | None
    items: Mapping[str, KnowledgeItem]
    digest: str
    exclusive: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def daily_caps(self) -> dict[str, int]:
        """``max_daily_cnt`` (millionths) of the items that have one, by code: what the excessive-quantity rule
        looks up for every fee line."""
        return {code: item.max_daily_cnt for code, item in self.items.items() if item.max_daily_cnt is not None}

    @cached_property
    def sex_limited(self) -> dict[str, KnowledgeItem]:
        """The items limited to one sex, by code."""
        return {code: item for code, item in self.items.items() if item.sex_limit is not None}

    @cached_property
    def age_limited(self) -> dict[str, KnowledgeItem]:
        """The items with an age limit, by code."""
        return {code: item for code, item in self.items.items()
                if item.min_age is not None or item.max_age is not None}

    @cached_property
    def _not_for_sex(self) -> dict[int, frozenset[str]]:
        return {sex: frozenset(code for code, item in self.sex_limited.items() if item.sex_limit != sex)
                for sex in (1, 2)}

    def not_for_sex(self, sex: int) -> frozenset[str]:
        """The codes of the items limited to the other sex than ``sex`` (1 or 2): a stay charging none of them
        breaks no sex limit (one set intersection instead of a look at each limited item)."""
        return self._not_for_sex[sex]

    @cached_property
    def _not_for_age(self) -> dict[int, frozenset[str]]:
        return {}

    def not_for_age(self, age: int) -> frozenset[str]:
        """The codes of the items whose age limits exclude ``age`` (worked out once per age)."""
        found = self._not_for_age.get(age)
        if found is None:
            found = self._not_for_age[age] = frozenset(
                code for code, item in self.age_limited.items() if not item.allows_age(age))
        return found

    @cached_property
    def exclusive_codes(self) -> frozenset[str]:
        """The codes of the items in some exclusive pair."""
        return frozenset(self.exclusive)

    @cached_property
    def indexed_codes(self) -> frozenset[str]:
        """The codes the stay rules look at item by item: the items' and the codes their ``exclusive_with`` names
        (CONTRACT lists codes there: a partner needs no row of its own to make the pair)."""
        return frozenset(self.items) | self.exclusive_codes

    def get(self, code: str) -> KnowledgeItem | None:
        return self.items.get(code)

    def name_of(self, code: str) -> str:
        item = self.items.get(code)
        return item.name if item else ""

    def __len__(self) -> int:
        return len(self.items)


def build_library(rows: Iterable[tuple[int, Sequence[str]]], header: Sequence[str], *, version: str = "",
                  effective_from: date | None = None) -> KnowledgeLibrary:
    """A library from ``(line number, cells)`` rows under ``header``; ``KnowledgeError`` names every bad row.

    The version defaults to the first 12 hex digits of the content's digest, so the same file is the same version.
    """
    problems: list[str] = []
    if tuple(h.strip().lstrip("\ufeff") for h in header) != HEADER:
        raise KnowledgeError([f"line 1: the header must be exactly {','.join(HEADER)} (got {','.join(header)})"])
    items: dict[str, KnowledgeItem] = {}
    digest = hashlib.sha256()
    for line, cells in rows:
        digest.update(("\x1f".join(cells) + "\n").encode())
        item = _item(line, cells, problems)
        if item is None:
            continue
        if item.code in items:
            problems.append(f"line {line}: code {item.code} appears twice")
            continue
        items[item.code] = item
    if problems:
        raise KnowledgeError(problems)
    exclusive: dict[str, set[str]] = {}
    for item in items.values():
        for other in item.exclusive_with:
            exclusive.setdefault(item.code, set()).add(other)
            exclusive.setdefault(other, set()).add(item.code)
    return KnowledgeLibrary(version or digest.hexdigest()[:12], effective_from, items, digest.hexdigest(),
                            {code: frozenset(others) for code, others in exclusive.items()})


def _item(line: int, cells: Sequence[str], problems: list[str]) -> KnowledgeItem | None:
    if len(cells) != len(HEADER):
        problems.append(f"line {line}: {len(cells)} columns, {len(HEADER)} expected")
        return None
    code, name, kind, category, price, sex, min_age, max_age, max_daily, exclusive = (c.strip() for c in cells)
    before = len(problems)

    def bad(column: str, why: str) -> None:
        problems.append(f"line {line}: {column} {why}")

    if not code:
        bad("code", "is empty")
    if kind not in KINDS:
        bad("kind", f"{kind!r} is not one of drug, service, consumable")
    if category not in FEE_CATEGORIES:
        bad("med_chrgitm_type", f"{category!r} is not one of the 14 fee categories 01-14")
    price_value = _decimal(price, "price", bad)
    if sex not in ("", "1", "2"):
        bad("sex_limit", f"{sex!r} must be 1 (men only), 2 (women only) or empty")
    low, high = _age(min_age, "min_age", bad), _age(max_age, "max_age", bad)
    if low is not None and high is not None and low > high:
        bad("min_age", f"{low} is above max_age {high}")
    cap = _decimal(max_daily, "max_daily_cnt", bad)
    if cap is not None and cap <= 0:
        bad("max_daily_cnt", "must be positive")
    partners = tuple(dict.fromkeys(p.strip() for p in exclusive.split(";") if p.strip()))
    if code and code in partners:
        bad("exclusive_with", f"lists the item itself ({code})")
    if len(problems) > before:
        return None
    return KnowledgeItem(code, name, kind, category, price_value, int(sex) if sex else None, low, high, cap, partners)


def _decimal(text: str, column: str, bad: Complaint) -> int | None:
    if not text:
        return None
    value = scaled(text)
    if value is None or value < 0:
        bad(column, f"{text!r} is not a non-negative decimal with at most six places")
    return value


def _age(text: str, column: str, bad: Complaint) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_AGE:
        bad(column, f"{text!r} must be whole years 0-{MAX_AGE}")
        return None
    return int(text)


@dataclass(frozen=True)
class KnowledgeShelf:
    """The imported versions, each in force from its effective date until the next one's."""

    versions: tuple[KnowledgeLibrary, ...] = ()

    def __post_init__(self) -> None:
        if any(v.effective_from is None for v in self.versions):
            raise ValueError("every stored knowledge version has an effective date")
        ordered = tuple(sorted(self.versions, key=lambda v: (v.effective_from, v.version)))
        object.__setattr__(self, "versions", ordered)

    def in_force(self, day: date | None) -> KnowledgeLibrary | None:
        """The version in force on ``day`` (the latest one for a stay without a date); None before the first."""
        if not self.versions:
            return None
        if day is None:
            return self.versions[-1]
        current = None
        for version in self.versions:
            assert version.effective_from is not None
            if version.effective_from <= day:
                current = version
        return current
