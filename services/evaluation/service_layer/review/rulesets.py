"""Rule sets: validated before they are stored, activated without a release, cached where they are used.

The active rule set is an immutable snapshot that requests only read: a background task (``refresh_forever``,
started with the server) looks for an activation made by another replica every ``refresh_seconds``, and an
activation in this process publishes its rule set at once, so no CheckStay pays for a reload. Only a request before
the first load reads the database itself.

A rule version's meaning never changes: storing a rule set whose rule (id, version) was stored before with another
kind or other parameters is refused (RULE_VERSION_CHANGED), so activity and precision per rule version compare
like with like. Switching a rule off, its severity, stages, dates and name may change under the same version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from libs.common.audit import record
from libs.common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from libs.common.refresh import refresh_forever

from ...adapters.review.files import ruleset_document
from ...adapters.review.repository import StoredRuleSet, rule_set_name
from ...adapters.review.tables import audit
from ...domain.review.ruleset import RuleConfig, RuleSet, RuleSetError, parse_ruleset
from .unit_of_work import ReviewUnitOfWork

ACTIVE_NAME = "ruleSets/-/versions/active"
FORMATS = {"TOML": ".toml", "JSON": ".json"}
REFRESH_SECONDS = 5.0
"""How often a process looks for an activation made by another replica."""

log = logging.getLogger(__name__)


def definition(rule: RuleConfig) -> dict[str, Any]:
    """What a rule version means: its kind and every parameter (defaults included), as JSON values."""
    return {"kind": rule.kind.name, "params": {k: _plain(v) for k, v in sorted(rule.params.items())}}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def parse_name(name: str, field: str = "name") -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "ruleSets" or parts[2] != "versions" or not parts[1] or not parts[3]:
        raise InvalidArgument.field(field, f"{name!r} is not a rule set name ruleSets/{{id}}/versions/{{version}}")
    return parts[1], parts[3]


class RuleSets:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork]) -> None:
        self._new_uow = new_uow
        self._active: tuple[RuleSet, str] | None = None
        self._parsed: dict[str, RuleSet] = {}
        self._reads = 0  # tickets of reads of the active rule set: an older read never replaces a newer one
        self._shown = 0
        self.refresh_seconds = REFRESH_SECONDS
        self.refreshes = 0
        """Reads of the active rule set (background, activation, or a request before the first load)."""
        self.failed_refreshes = 0
        self.request_loads = 0
        """Reads a request had to wait for: only before the first load (or while no rule set is active)."""

    async def create(self, source: bytes, source_format: str, creator: str,
                     validate_only: bool = False) -> tuple[RuleSet, StoredRuleSet | None]:
        """The validated rule set, and what is stored (None when only validated)."""
        if source_format not in FORMATS:
            raise InvalidArgument.field("rule_set.source_format", "must be TOML or JSON")
        try:
            ruleset = parse_ruleset(ruleset_document(source, FORMATS[source_format]))
        except RuleSetError as bad:
            raise InvalidArgument(f"the rule set cannot be activated: {bad}", reason="RULE_SET_INVALID",
                                  violations=tuple(FieldViolation("rule_set.source", p) for p in bad.problems)
                                  ) from None
        async with self._new_uow() as uow:
            known = await uow.review.rule_versions((r.id, r.version) for r in ruleset.rules)
            changed = [r for r in ruleset.rules if (r.id, r.version) in known
                       and known[(r.id, r.version)] != definition(r)]
            if changed:
                raise InvalidArgument(
                    "rule parameters changed without a new rule version: "
                    + ", ".join(f"{r.id} v{r.version}" for r in changed) + " (give each changed rule a new version)",
                    reason="RULE_VERSION_CHANGED",
                    violations=tuple(FieldViolation("rule_set.source", f"{r.id} version {r.version} was stored with "
                                                    f"other parameters") for r in changed))
            existing = await uow.review.rule_set(ruleset.id, ruleset.version)
            if existing is not None:
                if existing.digest == ruleset.digest:
                    return ruleset, existing
                raise AlreadyExists(f"{rule_set_name(ruleset.id, ruleset.version)} exists with other rules; give the "
                                    "rule set a new version", reason="RULE_SET_VERSION_EXISTS",
                                    metadata={"name": rule_set_name(ruleset.id, ruleset.version)})
            if validate_only:
                return ruleset, None
            name = rule_set_name(ruleset.id, ruleset.version)
            await uow.review.save_rule_set(ruleset.id, ruleset.version, source=source, source_format=source_format,
                                           document=ruleset.document, digest=ruleset.digest,
                                           description=ruleset.description, creator=creator)
            await uow.review.save_rule_versions([(r.id, r.version, r.kind.name, definition(r)) for r in ruleset.rules],
                                                name)
            stored = await uow.review.rule_set(ruleset.id, ruleset.version)
            await uow.commit()
        return ruleset, stored

    async def activate(self, name: str, reason: str, who: str) -> StoredRuleSet:
        ruleset_id, version = parse_name(name)
        if not reason.strip():
            raise InvalidArgument.field("reason", "is required")
        async with self._new_uow() as uow:
            if await uow.review.rule_set(ruleset_id, version) is None:
                raise NotFound(f"no rule set {name}", reason="RULE_SET_NOT_FOUND", metadata={"name": name})
            await uow.review.activate(ruleset_id, version, f"{who}: {reason.strip()}")
            await record(uow.session, audit, "rule_set.activate", name, detail={"reason": reason.strip()})
            stored = await uow.review.rule_set(ruleset_id, version)
            await uow.commit()
        assert stored is not None
        self._reads += 1
        self._show(self._reads, stored)
        return stored

    async def get(self, name: str) -> StoredRuleSet:
        if name == ACTIVE_NAME:
            async with self._new_uow() as uow:
                active = await uow.review.active_rule_set()
            if active is None:
                raise NotFound("no rule set is active", reason="NO_ACTIVE_RULE_SET")
            return active
        ruleset_id, version = parse_name(name)
        async with self._new_uow() as uow:
            stored = await uow.review.rule_set(ruleset_id, version)
        if stored is None:
            raise NotFound(f"no rule set {name}", reason="RULE_SET_NOT_FOUND", metadata={"name": name})
        return stored

    def parsed(self, stored: StoredRuleSet) -> RuleSet:
        """The stored document as a rule set (it was validated when stored; the library may only have grown)."""
        ruleset = self._parsed.get(stored.digest)
        if ruleset is None:
            ruleset = self._parsed[stored.digest] = parse_ruleset(stored.document)
        return ruleset

    async def active(self) -> tuple[RuleSet, str]:
        """The active rule set and its name; FAILED_PRECONDITION (NO_ACTIVE_RULE_SET) when none is."""
        snapshot = self._active
        if snapshot is None:
            self.request_loads += 1
            snapshot = await self.refresh()
            if snapshot is None:
                raise FailedPrecondition("no rule set is active: create one and activate it",
                                         reason="NO_ACTIVE_RULE_SET")
        return snapshot

    @property
    def snapshot(self) -> tuple[RuleSet, str] | None:
        """What requests read now (None before the first load or while no rule set is active)."""
        return self._active

    async def refresh(self) -> tuple[RuleSet, str] | None:
        """Read the active rule set from the database and show it (unless a newer read was shown meanwhile)."""
        self._reads += 1
        ticket = self._reads
        async with self._new_uow() as uow:
            stored = await uow.review.active_rule_set()
        self.refreshes += 1
        self._show(ticket, stored)
        return self._active

    async def refresh_forever(self) -> None:
        """Keep the snapshot current until cancelled; a failed read keeps the last good one."""
        await refresh_forever(self.refresh, self.refresh_seconds, at_once=True, on_failure=self._failed,
                              keeping=lambda: f"rule set {self._active[1] if self._active else 'none'}")

    def _failed(self) -> None:
        self.failed_refreshes += 1

    def _show(self, ticket: int, stored: StoredRuleSet | None) -> None:
        if ticket > self._shown:
            self._shown = ticket
            self._active = None if stored is None else (self.parsed(stored), stored.name)
