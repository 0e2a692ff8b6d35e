"""After-the-fact review runs (事后监管): a rule set over a region's settlement period.

The run pins the case feed's head, reads the period's cases as of it (revoked lists left out) and their fee
details from the collection service, reviews each stay with the knowledge version in force on its date (the
after-stage stay rules as its details arrive), then the person and population rules over all of them, and stores
the flags with the run. The run's name is its key: (region, period, rule set version); running it again returns
the stored run and reviews nothing twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition
from libs.common.runs import Run, RunContext, Runs, StartRun
from libs.national.fees import FeeLine

from ...adapters.review.collection import CollectionReader, is_active, lines_of, period_text, stay_of_case
from ...adapters.review.repository import StoredRun
from ...domain.review.engine import Reviewer
from ...domain.review.knowledge import KnowledgeLibrary, KnowledgeShelf
from ...domain.review.model import Flag, Stage, Stay
from ...domain.review.rules import Context
from ...domain.review.ruleset import RuleSet
from .knowledge import Knowledge
from .projection import Projection
from .rulesets import RuleSets
from .unit_of_work import ReviewUnitOfWork

FLAG_BATCH = 2_000
JOB_KIND = "review.run"
Progress = Callable[[int, int], Awaitable[None]]


def run_name(region: str, period: Period, ruleset_id: str, version: str) -> str:
    return f"regions/{region}/reviewRuns/{period}~{ruleset_id}~{version}"


class ReviewRuns:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork], rulesets: RuleSets, knowledge: Knowledge,
                 collection: CollectionReader, *, codes: tuple[frozenset[str], frozenset[str]] | None = None,
                 projection: Projection | None = None) -> None:
        self._new_uow = new_uow
        self._projection = projection
        self._rulesets = rulesets
        self._knowledge = knowledge
        self._collection = collection
        self._codes = codes

    async def resolve(self, region: str, period: Period, rule_set: str) -> tuple[RuleSet, str, str]:
        """(rule set, its name, the run's name) for a start request; the active rule set when none is named."""
        if rule_set:
            stored = await self._rulesets.get(rule_set)
            ruleset, name = self._rulesets.parsed(stored), stored.name
        else:
            ruleset, name = await self._rulesets.active()
        return ruleset, name, run_name(region, period, ruleset.id, ruleset.version)

    async def start(self, runs: Runs, region: str, period: Period, rule_set: str) -> Run:
        """Start (or find) the run of (region, period, rule set version) in the run framework."""
        ruleset, name, key = await self.resolve(region, period, rule_set)
        if not (await self._knowledge.shelf()).versions:
            raise FailedPrecondition("no knowledge version is imported", reason="KNOWLEDGE_NOT_FOUND")
        return await runs.start(StartRun(JOB_KIND, key, {"region": region, "period": str(period), "rule_set": name},
                                         versions={"rule_set": name, "rule_set_digest": ruleset.digest}))

    async def job(self, ctx: RunContext) -> dict[str, Any]:
        """The run framework's job: the review, then the run as stored (the operation's response)."""
        p = ctx.run.parameters

        async def report(done: int, total: int) -> None:
            await ctx.report(done, total=total, unit="lists")

        if self._projection is not None:
            await self._projection.catch_up(p["region"])
        stored = await self.execute(p["region"], Period.parse(p["period"]), p["rule_set"], report)
        return run_json(stored)

    async def execute(self, region: str, period: Period, rule_set: str = "",
                      progress: Progress | None = None) -> StoredRun:
        ruleset, name, key = await self.resolve(region, period, rule_set)
        async with self._new_uow() as uow:
            done = await uow.review.run(key)
            if done is not None:
                return done
            await uow.review.clear_run(key)  # what an interrupted execution left
            await uow.commit()
        shelf = await self._knowledge.shelf()
        if not shelf.versions:
            raise FailedPrecondition("no knowledge version is imported", reason="KNOWLEDGE_NOT_FOUND")
        review = _Pass(ruleset, shelf, self._codes)
        head = await self._collection.head()
        async for cases in self._collection.cases(region, [period], head):
            for case in cases:
                if is_active(case):
                    review.add(stay_of_case(case), period_text(case))
        async for stays in self._collection.fee_details(region, [period]):
            for details in stays:
                review.review_with_details(details.fixmedins_code, details.mdtrt_id, lines_of(details))
            if progress:
                await progress(len(review.reviewed), len(review.stays))
        flags = review.finish()
        rules = review.rule_counts()
        async with self._new_uow() as uow:
            for start in range(0, len(flags), FLAG_BATCH):
                await uow.review.save_flags(region, key, name, review.periods, flags[start:start + FLAG_BATCH])
            count, amount = await uow.review.run_totals(key)
            run = StoredRun(key, region, str(period), name, head, len(review.stays), len(review.reviewed), count,
                            amount, sorted(review.used), datetime.now())
            await uow.review.save_run(run, rules)
            await uow.commit()
        async with self._new_uow() as uow:
            stored = await uow.review.run(key)
        assert stored is not None
        return stored


def run_json(run: StoredRun) -> dict[str, Any]:
    """A finished run as the run framework keeps its result (the ReviewRun of the operation's response)."""
    return {"name": run.name, "region": run.region, "period": run.period, "rule_set": run.rule_set,
            "as_of_sequence": run.as_of_sequence, "list_count": run.list_count,
            "lists_with_details": run.lists_with_details, "flag_count": run.flag_count, "amount_fen": run.amount_fen,
            "knowledge_versions": run.knowledge_versions, "end_time": run.end_time.isoformat()}


def run_of_json(value: dict[str, Any]) -> StoredRun:
    return StoredRun(**{**value, "end_time": datetime.fromisoformat(value["end_time"])})


class _Pass:
    """One execution of a run: the period's stays, a reviewer per knowledge version in force, the flags."""

    def __init__(self, ruleset: RuleSet, shelf: KnowledgeShelf,
                 codes: tuple[frozenset[str], frozenset[str]] | None) -> None:
        self.ruleset = ruleset
        self.shelf = shelf
        self.codes = codes
        self.stays: dict[tuple[str, str], Stay] = {}
        self.periods: dict[tuple[str, str], str] = {}
        self.by_visit: dict[tuple[str, str], tuple[str, str]] = {}
        self.reviewed: set[tuple[str, str]] = set()
        self.used: set[str] = set()
        self.flags: list[Flag] = []
        self._reviewers: dict[str, Reviewer] = {}

    def add(self, stay: Stay, period: str) -> None:
        key = (stay.fixmedins_code, stay.setl_id)
        self.stays[key], self.periods[key] = stay, period
        if stay.mdtrt_id:
            self.by_visit[(stay.fixmedins_code, stay.mdtrt_id)] = key

    def review_with_details(self, hospital: str, mdtrt_id: str, lines: list[FeeLine]) -> None:
        key = self.by_visit.get((hospital, mdtrt_id))
        if key is None or key in self.reviewed:
            return
        self._review(dataclasses.replace(self.stays[key], details=tuple(lines), has_details=True))
        self.reviewed.add(key)

    def finish(self) -> list[Flag]:
        """The stays without details, then the person and population rules over every stay."""
        for key, stay in self.stays.items():
            if key not in self.reviewed:
                self._review(stay)
        whole = self._reviewer(self.shelf.versions[-1])
        stays = list(self.stays.values())
        return [*self.flags, *whole.check_people(stays), *whole.check_population(stays)]

    def rule_counts(self) -> list[tuple[str, str, str, int]]:
        """Per rule of the after stage: the lists it was in force for (the denominator of its activity)."""
        return [(r.id, r.version, r.category.value, sum(1 for s in self.stays.values() if r.in_force(s.on)))
                for r in self.ruleset.active(Stage.AFTER)]

    def _review(self, stay: Stay) -> None:
        library = self.shelf.in_force(stay.on)
        if library is not None:
            self.used.add(library.version)
            self.flags += self._reviewer(library).check_stay(stay)

    def _reviewer(self, library: KnowledgeLibrary) -> Reviewer:
        found = self._reviewers.get(library.version)
        if found is None:
            context = Context(library, *self.codes) if self.codes else Context(library)
            found = self._reviewers[library.version] = Reviewer(self.ruleset, context, Stage.AFTER)
        return found
