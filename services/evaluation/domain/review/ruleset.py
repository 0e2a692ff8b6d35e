"""Rule sets: versioned documents that instantiate rule kinds, validated as a whole before activation.

A rule set document (TOML or JSON, read by the adapters; or sent over RPC) looks like::

    id = "medpay-review"
    version = "2026.1"
    effective_from = "2026-01-01"   # optional, as effective_to: the set's rules judge stays of these dates only
    [[rules]]
    id = "RV-SPLIT-01"            # unique in the set
    kind = "split_admission"      # a kind of the rule library (library.KINDS)
    version = "1"                 # flags record it; change it whenever parameters change
    name = "分解住院：出院15日内同院相关诊断再入院"
    category = "split_admission"  # must be the kind's category (stated, so the file reads on its own)
    stages = ["after"]            # before / during / after
    severity = "warning"          # error / warning / info
    enabled = true                # switched off without a release
    effective_from = "2020-01-01" # optional; effective_to optional (exclusive)
    params = { window_days = 15 } # optional; the kind's defaults fill the rest

Every problem is reported at once, each with the rule it concerns.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from .library import KINDS
from .model import Category, Severity, Stage
from .rules import RuleKind, Scope

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_SET_KEYS = frozenset({"id", "version", "effective_from", "effective_to", "description", "rules"})
_RULE_KEYS = frozenset({"id", "kind", "version", "name", "category", "stages", "severity", "enabled",
                        "effective_from", "effective_to", "params", "description"})


class RuleSetError(ValueError):
    """A rule set that must not be activated: every problem found, each naming where it is."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class RuleConfig:
    """One rule of a set: a kind with its identity, version, switches, dates and checked parameters."""

    id: str
    kind: RuleKind
    version: str
    name: str
    category: Category
    stages: frozenset[Stage]
    severity: Severity
    enabled: bool
    effective_from: date | None
    effective_to: date | None
    params: Mapping[str, Any]
    description: str = ""

    def in_force(self, on: date | None) -> bool:
        """Whether the rule applies to a stay judged on ``on`` (a stay without any date: rules without dates)."""
        if on is None:
            return self.effective_from is None and self.effective_to is None
        return (self.effective_from is None or on >= self.effective_from) and (
            self.effective_to is None or on < self.effective_to)


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: str
    effective_from: date | None
    effective_to: date | None
    description: str
    rules: tuple[RuleConfig, ...]
    digest: str = field(default="")
    document: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def rule(self, rule_id: str) -> RuleConfig | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def active(self, stage: Stage | None = None) -> tuple[RuleConfig, ...]:
        return tuple(r for r in self.rules if r.enabled and (stage is None or stage in r.stages))


def parse_ruleset(document: Any) -> RuleSet:
    """A validated ``RuleSet`` from a document, or ``RuleSetError`` listing every problem."""
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise RuleSetError(["a rule set must be an object (a TOML table or a JSON object)"])
    for key in sorted(set(document) - _SET_KEYS):
        problems.append(f"unknown key {key!r} (known: {', '.join(sorted(_SET_KEYS))})")
    set_id = _text(document, "id", "rule set", problems, identifier=True)
    version = _text(document, "version", "rule set", problems, identifier=True)
    start = _date(document.get("effective_from"), "rule set effective_from", problems)
    end = _date(document.get("effective_to"), "rule set effective_to", problems)
    if start and end and end <= start:
        problems.append("rule set effective_to must be after effective_from")
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append("rules must be a non-empty list of rules")
        raw_rules = []
    rules: list[RuleConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule = _rule(raw, i, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(f"rules[{i}] ({rule.id}): id used twice")
        seen.add(rule.id)
        rules.append(rule)
    rules = [_within(rule, start, end, problems) for rule in rules]
    if problems:
        raise RuleSetError(problems)
    description = str(document.get("description") or "")
    return RuleSet(set_id, version, start, end, description, tuple(rules), digest_of(document), dict(document))


def _within(rule: RuleConfig, start: date | None, end: date | None, problems: list[str]) -> RuleConfig:
    """The rule with its dates narrowed to the rule set's: a rule applies only while its set is in force too."""
    first = max((d for d in (rule.effective_from, start) if d), default=None)
    last = min((d for d in (rule.effective_to, end) if d), default=None)
    if first and last and last <= first:
        problems.append(f"rule {rule.id}: its effective dates lie outside the rule set's, so it would never apply")
    return replace(rule, effective_from=first, effective_to=last)


def _rule(raw: Any, i: int, problems: list[str]) -> RuleConfig | None:
    if not isinstance(raw, Mapping):
        problems.append(f"rules[{i}] must be an object")
        return None
    where = f"rules[{i}]" + (f" ({raw['id']})" if isinstance(raw.get("id"), str) else "")
    before = len(problems)
    for key in sorted(set(raw) - _RULE_KEYS):
        problems.append(f"{where}: unknown key {key!r}")
    rule_id = _text(raw, "id", where, problems, identifier=True)
    version = _text(raw, "version", where, problems, identifier=True)
    name = _text(raw, "name", where, problems)
    kind = KINDS.get(str(raw.get("kind")))
    if kind is None:
        problems.append(f"{where}: kind {raw.get('kind')!r} is not in the rule library "
                        f"({', '.join(sorted(KINDS))})")
    category = _enum(Category, raw.get("category"), f"{where} category", problems)
    if kind and category and category is not kind.category:
        problems.append(f"{where}: kind {kind.name} reports category {kind.category.value}, not {category.value}")
    stages_raw = raw.get("stages")
    stages: set[Stage] = set()
    if not isinstance(stages_raw, list) or not stages_raw:
        problems.append(f"{where}: stages must be a non-empty list of before, during, after")
    else:
        for s in stages_raw:
            stage = _enum(Stage, s, f"{where} stage", problems)
            if stage:
                stages.add(stage)
    if kind and kind.scope is Scope.POPULATION and stages - {Stage.AFTER}:
        problems.append(f"{where}: a statistical rule needs the whole review's population, so it runs after only")
    severity = _enum(Severity, raw.get("severity"), f"{where} severity", problems)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}: enabled must be true or false")
    start = _date(raw.get("effective_from"), f"{where} effective_from", problems)
    end = _date(raw.get("effective_to"), f"{where} effective_to", problems)
    if start and end and end <= start:
        problems.append(f"{where}: effective_to must be after effective_from")
    params = _params(kind, raw.get("params", {}), where, problems) if kind else {}
    if len(problems) > before or kind is None or category is None or severity is None:
        return None
    return RuleConfig(rule_id, kind, version, name, category, frozenset(stages), severity, bool(enabled), start, end,
                      params, str(raw.get("description") or ""))


def _params(kind: RuleKind, raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: params must be an object")
        return {}
    out = kind.defaults()
    for name, value in raw.items():
        spec = kind.params.get(name)
        if spec is None:
            known = ", ".join(sorted(kind.params)) or "none"
            problems.append(f"{where}: {kind.name} has no parameter {name!r} (parameters: {known})")
            continue
        try:
            out[name] = spec.convert(value)
        except ValueError as why:
            problems.append(f"{where}: parameter {name} {why}")
    return out


def _text(node: Mapping[str, Any], key: str, where: str, problems: list[str], *, identifier: bool = False) -> str:
    value = node.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key} is required (a non-empty string)")
        return ""
    if identifier and not _ID.fullmatch(value):
        problems.append(f"{where}: {key} {value!r} must be 1-64 letters, digits and _ . : - ")
    return value.strip()


def _enum(kind: Any, value: Any, where: str, problems: list[str]) -> Any:
    try:
        return kind(value)
    except ValueError:
        problems.append(f"{where} {value!r} is not one of {', '.join(m.value for m in kind)}")
        return None


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where} {value!r} is not a date (yyyy-MM-dd)")
        return None


def digest_of(document: Mapping[str, Any]) -> str:
    """A content digest independent of key order and of TOML or JSON (dates as ISO strings)."""
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def canonical_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, Decimal)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
