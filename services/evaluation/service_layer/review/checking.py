"""CheckStay and the national 3101: one stay in progress (or at settlement) against the active rule set, in a few
milliseconds. Nothing is stored. Split admission looks at the person's earlier stays at the hospital, as the case
feed brought them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from libs.common.errors import FailedPrecondition

from ...domain.review.engine import Reviewer
from ...domain.review.model import Flag, Group, Stage, Stay
from ...domain.review.rules import Context, Scope
from .knowledge import Knowledge
from .rulesets import RuleSets


@dataclass(frozen=True)
class CheckResult:
    flags: list[Flag]
    rule_set: str
    knowledge_version: str


class Checker:
    def __init__(self, person_stays: Callable[[str, str], Awaitable[Sequence[Any]]], rulesets: RuleSets,
                 knowledge: Knowledge, codes: tuple[frozenset[str], frozenset[str]] | None = None) -> None:
        """``person_stays(hospital, psn_no)``: the one read a check makes (the person's stays at the hospital), best
        a single SELECT without a transaction or session around it (``adapters.review.repository.PersonStays``)."""
        self._person_stays = person_stays
        self._rulesets = rulesets
        self._knowledge = knowledge
        self._codes = codes
        self._reviewers: dict[tuple[str, str, Stage], Reviewer] = {}

    async def check(self, stay: Stay, stage: Stage) -> CheckResult:
        ruleset, name = await self._rulesets.active()
        library = (await self._knowledge.shelf()).in_force(stay.on)
        if library is None:
            raise FailedPrecondition(f"no knowledge version is in force on {stay.on}: import one",
                                     reason="KNOWLEDGE_NOT_FOUND")
        key = (ruleset.digest, library.version, stage)
        reviewer = self._reviewers.get(key)
        if reviewer is None:
            if len(self._reviewers) > 64:
                self._reviewers.clear()
            context = Context(library, *self._codes) if self._codes else Context(library)
            reviewer = self._reviewers[key] = Reviewer(ruleset, context, stage)
        history: list[Stay] = []
        if stay.psn_no and any(r.kind.scope is Scope.PERSON for r in ruleset.active(stage)):
            history = await self.history(stay)
        return CheckResult(reviewer.check_stay(stay, history), name, library.version)

    async def history(self, stay: Stay) -> list[Stay]:
        """The person's other collected stays at the hospital (not this stay, by setl_id or mdtrt_id)."""
        rows = await self._person_stays(stay.fixmedins_code, stay.psn_no)
        return [stay_of_row(r) for r in rows
                if r.setl_id != stay.setl_id and (not stay.mdtrt_id or r.mdtrt_id != stay.mdtrt_id)]


def stay_of_row(r: Any) -> Stay:
    """A projected stay (table ``stay``) as the rules read it: dates at midnight, no fee details."""
    group = Group(r.drg, r.adrg, r.mdc) if r.drg else None
    return Stay(fixmedins_code=r.fixmedins_code, setl_id=r.setl_id, mdtrt_id=r.mdtrt_id, psn_no=r.psn_no,
                sex=r.sex, age_years=r.age_years, stated_age=r.age_years, admitted=_midnight(r.adm_date),
                discharged=_midnight(r.dscg_date), discharge_way=r.dscg_way, dept=r.dept, doctor=r.doctor,
                diagnoses=tuple(r.diagnoses), procedures=tuple(r.procedures), total_fen=r.total_fen,
                category_fen=None, group=group)


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None
