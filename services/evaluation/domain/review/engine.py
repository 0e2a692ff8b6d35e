"""The review engine: a rule set and a knowledge library applied to stays, giving flags.

Stay-scope rules run per stay as its fee details arrive (a batch streams them; ``CheckStay`` answers one stay);
person- and population-scope rules run once every list of the review is known. A rule runs on a stay only when
enabled, meant for the stage, and in force on the stay's date; each flag records the rule's id and version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .model import Flag, Hit, Stage, Stay
from .rules import Context, Scope, StayCheck
from .ruleset import RuleConfig, RuleSet
from .view import StayView


def stamp(rule: RuleConfig, hit: Hit) -> Flag:
    s = hit.stay
    return Flag(s.fixmedins_code, s.setl_id, s.mdtrt_id, s.psn_no, rule.id, rule.name, rule.version, rule.category,
                rule.severity, hit.amount, hit.evidence, hit.lines, hit.related_setl_id)


@dataclass(frozen=True)
class Reviewer:
    ruleset: RuleSet
    context: Context
    stage: Stage = Stage.AFTER

    @cached_property
    def _by_scope(self) -> dict[Scope, tuple[RuleConfig, ...]]:
        """The active rules of the stage per scope, worked out once (``check_stay`` runs per stay)."""
        active = self.ruleset.active(self.stage)
        return {scope: tuple(r for r in active if r.kind.scope is scope) for scope in Scope}

    def _rules(self, scope: Scope) -> tuple[RuleConfig, ...]:
        return self._by_scope[scope]

    @cached_property
    def _in_force_on(self) -> dict[date | None, tuple[tuple[RuleConfig, StayCheck], ...]]:
        return {}

    def _stay_checks(self, on: date | None) -> tuple[tuple[RuleConfig, StayCheck], ...]:
        """The stay-scope rules in force on a day with their functions, worked out once per day (a batch reviews
        thousands of stays a second over a year's days)."""
        checks = self._in_force_on.get(on)
        if checks is None:
            if len(self._in_force_on) > 10_000:
                self._in_force_on.clear()
            checks = self._in_force_on[on] = tuple(
                (rule, rule.kind.check_stay) for rule in self._rules(Scope.STAY)
                if rule.in_force(on) and rule.kind.check_stay is not None)
        return checks

    @property
    def needs_groups(self) -> bool:
        """Whether some active rule reads DRG groups (the caller groups the stays only then)."""
        return any(r.kind.scope is Scope.POPULATION or "adrg" in r.params.get("related", ()) or
                   "mdc" in r.params.get("related", ()) for r in self.ruleset.active(self.stage))

    def check_stay(self, stay: Stay, history: Sequence[Stay] = ()) -> list[Flag]:
        """Stay-scope rules on one stay; with ``history`` (the person's other stays at the hospital), person-scope
        rules too, reporting only on ``stay``."""
        flags: list[Flag] = []
        view = StayView(stay, self.context.knowledge.indexed_codes)
        context = self.context
        for rule, check in self._stay_checks(stay.on):
            for hit in check(view, context, rule.params):
                flags.append(stamp(rule, hit))
        if history:
            stays = sorted([*history, stay], key=_admission)
            for rule in self._rules(Scope.PERSON):
                flags.extend(self._group_flags(rule, stays, only=stay))
        return flags

    def check_people(self, stays: Iterable[Stay]) -> list[Flag]:
        """Person-scope rules over every person's stays at each hospital."""
        rules = self._rules(Scope.PERSON)
        if not rules:
            return []
        people: dict[tuple[str, str], list[Stay]] = {}
        for stay in stays:
            if stay.psn_no:
                people.setdefault((stay.fixmedins_code, stay.psn_no), []).append(stay)
        flags: list[Flag] = []
        for person_stays in people.values():
            if len(person_stays) < 2:
                continue
            person_stays.sort(key=_admission)
            for rule in rules:
                flags.extend(self._group_flags(rule, person_stays))
        return flags

    def check_population(self, stays: Sequence[Stay]) -> list[Flag]:
        """Statistical rules over the review's stays (their population)."""
        flags: list[Flag] = []
        for rule in self._rules(Scope.POPULATION):
            flags.extend(self._group_flags(rule, stays))
        return flags

    def _group_flags(self, rule: RuleConfig, stays: Sequence[Stay], only: Stay | None = None) -> Iterable[Flag]:
        assert rule.kind.check_group is not None
        for hit in rule.kind.check_group(stays, self.context, rule.params):
            if (only is None or hit.stay is only) and rule.in_force(hit.stay.on):
                yield stamp(rule, hit)


def _admission(stay: Stay) -> tuple[str, str]:
    return (stay.admitted.isoformat() if stay.admitted else "", stay.setl_id)
