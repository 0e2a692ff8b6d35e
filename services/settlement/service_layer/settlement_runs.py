"""Settlement runs: start one (idempotent by its resolved inputs, or by request id), and the job that reads the
case feed as of the pinned sequence, settles, and stores case results and statements in one transaction with
the run-completion hooks (``completion.py``).

A run's inputs are its parameters (region, period, policy version, weight table version, feed sequence and, for a
year-end clearing with smart review connected, the deductions review confirmed for the year: ``review.py``) plus
what it finds when it stores: the earlier runs of the year whose payments it accounts for (``builds_on``) and
the approved special cases. Both are recorded with the run, so :meth:`SettlementRuns.reproduce` computes the
same statements, byte for byte, at any later time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from libs.common.paging import decode_token, encode_token, page_size
from libs.common.runs import Run, RunContext, Runs, StartRun, digest

from ..adapters.run_repository import StoredRun, StoredStatement, statements_digest
from ..domain.collected import CollectedCase, with_levels
from ..domain.exact import SCALE6, round_units
from ..domain.policies import PolicyVersion
from ..domain.runs import CaseOutcome, Paid, RunInputs, RunOutcome, RunType, advance, clearing
from ..domain.weight_tables import WeightTableVersion
from . import review
from .completion import CompletedRun, RunCompletionHook, StatementTotals, complete_run
from .feed import CaseFeed, pin_sequence
from .names import parse_case_name, parse_run_name
from .policies import Policies
from .review import CARRIED, CONFIRMED, ReviewDeductions, pinned_fen, pinned_text
from .review import PARAMETER as REVIEW_DEDUCTIONS
from .unit_of_work import SettlementUnitOfWork
from .weight_tables import WeightTables

KIND = "settlement.run"
RUNS_PAGE = (100, 1000)
STATEMENTS_PAGE = (100, 1000)
CASES_PAGE = (500, 5000)

UowFactory = Callable[[], SettlementUnitOfWork]


@dataclass(frozen=True)
class RunRequest:
    region: str
    period: Period
    policy: str = ""
    weight_table: str = ""
    feed_sequence: int = 0
    request_id: str = ""


@dataclass(frozen=True)
class RunView:
    """A run as clients see it: the framework's run (state, progress) and, once stored, its results."""

    run: Run | None
    stored: StoredRun | None


class SettlementRuns:
    def __init__(self, uows: UowFactory, feed: CaseFeed, policies: Policies, weight_tables: WeightTables,
                 hooks: tuple[RunCompletionHook, ...] = (), *, review: ReviewDeductions | None = None) -> None:
        self._uows = uows
        self._review = review
        """Where a clearing reads review's confirmed deductions; None: the policy's deductions only."""
        self._feed = feed
        self._policies = policies
        self._tables = weight_tables
        self._hooks = hooks
        self.runs: Runs | None = None

    def _runs(self) -> Runs:
        if self.runs is None:
            raise RuntimeError("SettlementRuns.runs is not set (bootstrap sets it)")
        return self.runs

    # -- starting ------------------------------------------------------------------------------------------
    async def start(self, request: RunRequest) -> Run:
        runs = self._runs()
        asked = {"period": str(request.period), "policy": request.policy, "weight_table": request.weight_table,
                 "feed_sequence": request.feed_sequence}
        if request.request_id:
            replay = await runs.store.list_runs(limit=1, kind=KIND,
                                                run_key=f"{request.region}/request/{request.request_id}")
            if replay:
                if replay[0].parameters.get("request") != asked:
                    from libs.common.errors import AlreadyExists

                    raise AlreadyExists(f"request_id {request.request_id} was used with another run",
                                        reason="REQUEST_ID_REUSED", metadata={"request_id": request.request_id})
                return replay[0]
        year = request.period.year
        policy = await self._policies.resolve(request.region, year, request.policy, "settlement_run.policy")
        table = await self._tables.resolve(request.region, year, request.weight_table, "settlement_run.weight_table")
        sequence = await pin_sequence(self._feed, request.feed_sequence, "settlement_run.case_feed_sequence")
        run_type = RunType.ADVANCE if request.period.is_month else RunType.CLEARING
        key = f"{request.region}/{request.period}/{policy.policy_id}/{table.table_id}/{sequence}"
        parameters: dict[str, Any] = {"region": request.region, "period": str(request.period),
                                      "run_type": run_type.value, "policy": policy.name,
                                      "weight_table": table.name, "feed_sequence": sequence}
        if run_type is RunType.CLEARING and self._review is not None:
            deductions = pinned_text(await self._review.confirmed(request.region, year))
            parameters[REVIEW_DEDUCTIONS] = deductions
            if deductions:  # other confirmed amounts are another run (which a cleared year refuses)
                key += f"/review-{digest(deductions)[:16]}"
        if self._review is not None:
            confirmed = await self._confirmed_after_clearing(request.region, year)
            if confirmed:  # earlier cleared years' confirmed amounts now: the job carries what is not deducted
                parameters[CONFIRMED] = confirmed
                key += f"/carry-{digest(confirmed)[:16]}"
        if request.request_id:
            key = f"{request.region}/request/{request.request_id}"
            parameters["request"] = asked
        elif await runs.store.list_runs(limit=1, kind=KIND, run_key=key):
            return await runs.start(self._start(key, parameters, policy, table))
        await self._check_open(request.region, request.period)
        return await runs.start(self._start(key, parameters, policy, table))

    @staticmethod
    def _start(key: str, parameters: dict[str, Any], policy: PolicyVersion, table: WeightTableVersion) -> StartRun:
        return StartRun(KIND, run_key=key, parameters=parameters,
                        input_digest=digest(parameters, policy.parameters_digest, table.input_digest),
                        versions={"policy": policy.name, "weight_table": table.name,
                                  "case_feed": str(parameters["feed_sequence"])}, unit="cases")

    async def _confirmed_after_clearing(self, region: str, year: int) -> dict[str, dict[str, str]]:
        """What review confirms now for each year before ``year`` whose clearing read review (``review.py``): a
        year cleared without review had its deductions set otherwise, and carrying them would deduct twice."""
        assert self._review is not None
        async with self._uows() as uow:
            finished = await uow.runs.of_region(region)
        cleared = sorted({int(r.period) for r in finished
                          if r.run_type is RunType.CLEARING and REVIEW_DEDUCTIONS in r.totals and int(r.period) < year})
        return review.by_year_text({str(y): await self._review.confirmed(region, y) for y in cleared})

    async def _carry(self, uow: SettlementUnitOfWork, run_id: str, parameters: Any) -> dict[str, dict[str, int]]:
        """The part of the pinned confirmed amounts no finished run has deducted yet (under the carry lock)."""
        confirmed = review.by_year_fen(parameters.get(CONFIRMED))
        if not confirmed:
            return {}
        await uow.runs.lock_carry(str(parameters["region"]))
        finished = [r for r in await uow.runs.of_region(str(parameters["region"])) if r.run_id != run_id]
        done = review.deducted((r.period, r.run_type is RunType.CLEARING, r.totals) for r in finished)
        return review.to_carry(confirmed, done)

    async def _check_open(self, region: str, period: Period) -> None:
        async with self._uows() as uow:
            finished = await uow.runs.of_year(region, period.year)
        _refuse_settled(finished, region, period, "")

    # -- the job -------------------------------------------------------------------------------------------
    async def _pinned(self, parameters: Any) -> Pinned:
        return Pinned(region=str(parameters["region"]), period=Period.parse(str(parameters["period"])),
                      sequence=int(parameters["feed_sequence"]),
                      policy=await self._policies.get(str(parameters["policy"])),
                      table=await self._tables.get(str(parameters["weight_table"])),
                      review_deductions=pinned_fen(parameters))

    async def job(self, ctx: RunContext) -> dict[str, Any]:
        pinned = await self._pinned(ctx.run.parameters)
        region, period = pinned.region, pinned.period
        own = await self._read(ctx, pinned, [period])
        async with self._uows() as uow:
            await uow.runs.lock(region, period.year)
            stored = await uow.runs.get(ctx.run.id)
            if stored is not None:  # stored by an earlier attempt whose end was not recorded
                return _result(stored)
            finished = await uow.runs.of_year(region, period.year)
            _refuse_settled(finished, region, period, ctx.run.id)
            prior = [r for r in finished if r.run_type is RunType.ADVANCE]
            await uow.special_cases.lock_year(region, period.year)  # an approval is in this run or sees it stored
            approved = await uow.special_cases.approved(region, period.year)
            pinned = replace(pinned, review_carried=await self._carry(uow, ctx.run.id, ctx.run.parameters))
            await ctx.report(len(own), message="settling", force=True)
            outcome, documents, paid = await self._compute(uow, ctx, pinned, own, prior, approved=approved)
            policy = pinned.policy.policy()
            totals: dict[str, Any] = {
                **outcome.totals(), "builds_on": [r.name for r in prior],
                "special_cases": sorted(approved & {c.list_id for c in own if c.active}),
                "provisional_point_value": str(policy.provisional_point_value),
                "months_adjusted": sorted({m for (_, m) in paid} - {str(period)}) if period.is_month else []}
            if REVIEW_DEDUCTIONS in ctx.run.parameters:  # read from review when it started (maybe none confirmed)
                totals[REVIEW_DEDUCTIONS] = pinned_text(pinned.review_deductions)
            if CONFIRMED in ctx.run.parameters:  # what it deducted of earlier cleared years (maybe nothing)
                totals[CARRIED] = review.by_year_text(pinned.review_carried)
            stored = StoredRun(
                run_id=ctx.run.id, region=region, period=str(period), run_type=_type(period),
                policy=pinned.policy.name, weight_table=pinned.table.name, feed_sequence=pinned.sequence,
                method=outcome.method.value, cases=len(outcome.cases), hospitals=len(outcome.statements),
                total_points=outcome.total_points, fund_ratio=outcome.fund_ratio, point_value=outcome.point_value,
                provisional_point_value=round_units(Fraction(policy.provisional_point_value), SCALE6),
                totals=totals, statements_digest=statements_digest(documents), created_at=None)
            await ctx.report(len(own), message="storing", force=True)
            await uow.runs.add(stored, outcome, documents)
            await complete_run(uow, CompletedRun(
                run_id=ctx.run.id, name=stored.name, region=region, period=str(period), run_type=_type(period).value,
                statements=tuple(StatementTotals(s.hospital, s.gross, s.assessed, s.advances, s.adjustments,
                                                 s.deductions, s.balance) for s in outcome.statements)),
                self._hooks)
            await ctx.save("stored", done=len(own), connection=await uow.session.connection())
            await uow.commit()
        return _result(stored)

    async def reproduce(self, run_id: str) -> tuple[list[bytes], list[bytes]]:
        """(the statements a finished run stored, the statements computed again now from its recorded inputs):
        equal byte for byte unless something changed the past."""
        async with self._uows() as uow:
            stored = await uow.runs.get(run_id)
            if stored is None:
                raise NotFound(f"no finished settlement run {run_id}", reason="RUN_NOT_FOUND")
            prior = [p for p in [await uow.runs.get(parse_run_name(n, "builds_on")[1]) for n in stored.builds_on]
                     if p is not None]
            kept = [s.document for s in await uow.runs.statements(run_id, None, "", 1 << 30)]
            pinned = Pinned(stored.region, Period.parse(stored.period), stored.feed_sequence,
                            await self._policies.get(stored.policy), await self._tables.get(stored.weight_table),
                            review_deductions=pinned_fen(stored.totals),
                            review_carried=review.carried_fen(stored.totals))
            own = await self._read(None, pinned, [pinned.period])
            _, again, _ = await self._compute(uow, None, pinned, own, prior,
                                              approved=frozenset(stored.totals.get("special_cases", [])))
        return kept, again

    async def _read(self, ctx: RunContext | None, pinned: Pinned, periods: Sequence[Period]) -> list[CollectedCase]:
        """The cases of ``periods`` at the run's sequence, with the policy's levels where the feed has none."""
        cases: list[CollectedCase] = []
        async for chunk in self._feed.cases(pinned.region, periods, pinned.sequence):
            cases.extend(chunk)
            if ctx is not None:
                await ctx.report(len(cases), message=f"reading the case feed ({', '.join(map(str, periods))})")
        return with_levels(cases, pinned.policy.hospital_levels)

    async def _compute(self, uow: SettlementUnitOfWork, ctx: RunContext | None, pinned: Pinned,
                       own: list[CollectedCase], prior: list[StoredRun], *,
                       approved: frozenset[str]) -> tuple[RunOutcome, list[bytes], dict[tuple[str, str], Paid]]:
        """The outcome of a run over its own cases, given the earlier runs it builds on."""
        paid = _paid(await uow.runs.month_lines([r.run_id for r in prior]))
        inputs = RunInputs(pinned.policy.policy(), pinned.table.table, pinned.policy.group_scheme, approved, paid,
                           review_deductions=pinned.review_deductions, review_carried=pinned.review_carried)
        period = pinned.period
        if period.is_month:
            months = sorted({m for (_, m) in paid} - {str(period)})
            earlier: dict[str, list[CollectedCase]] = {m: [] for m in months}
            if months:
                for case in await self._read(ctx, pinned, [Period.parse(m) for m in months]):
                    earlier[case.month].append(case)
            outcome = await asyncio.to_thread(advance, inputs, str(period), own, earlier)
        else:
            outcome = await asyncio.to_thread(clearing, inputs, own)
        header = {"region": pinned.region, "period": str(period), "run_type": _type(period).value,
                  "policy": pinned.policy.name, "weight_table": pinned.table.name,
                  "case_feed_sequence": str(pinned.sequence), "builds_on": ",".join(r.name for r in prior)}
        return outcome, [s.document(header) for s in outcome.statements], paid

    # -- reading -------------------------------------------------------------------------------------------
    async def view(self, name: str, field: str = "name") -> RunView:
        region, run_id = parse_run_name(name, field)
        run = await self._runs().store.get(run_id)
        if run is None or run.kind != KIND or run.parameters.get("region") != region:
            raise NotFound(f"no settlement run {name}", reason="RUN_NOT_FOUND", metadata={"name": name})
        async with self._uows() as uow:
            stored = await uow.runs.get(run_id)
        return RunView(run, stored)

    async def finished(self, name: str, field: str) -> StoredRun:
        view = await self.view(name, field)
        if view.stored is None:
            raise NotFound(f"settlement run {name} has not finished", reason="RUN_NOT_FOUND", metadata={"name": name})
        return view.stored

    async def page(self, region: str, year: int, size: int, token: str) -> tuple[list[StoredRun], str]:
        if year < 0:
            raise InvalidArgument.field("year", "must not be negative")
        limit = page_size(size, *RUNS_PAGE)
        cursor = decode_token(token)
        after = None
        if cursor:
            async with self._uows() as uow:
                last = await uow.runs.get(cursor)
            if last is None or last.created_at is None:
                raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
            after = (last.created_at, last.run_id)
        async with self._uows() as uow:
            found = await uow.runs.page(region, year, after, limit + 1)
        page = found[:limit]
        return page, encode_token(page[-1].run_id) if len(found) > limit else ""

    async def statements(self, name: str, size: int, token: str,
                         tenant: str | None) -> tuple[StoredRun, list[StoredStatement], str]:
        """A finished run's statements by institution code; a hospital (``tenant``) gets its own only."""
        limit = page_size(size, *STATEMENTS_PAGE)
        after = decode_token(token)  # the request's own errors before the run's existence
        stored = await self.finished(name, "parent")
        async with self._uows() as uow:
            found = await uow.runs.statements(stored.run_id, tenant, after, limit + 1)
        page = found[:limit]
        return stored, page, encode_token(page[-1].statement.hospital) if len(found) > limit else ""

    async def cases(self, name: str, hospital: str, size: int, token: str,
                    tenant: str | None) -> tuple[StoredRun, list[CaseOutcome], str]:
        """A finished run's case results by list id, of ``hospital`` when given; a hospital (``tenant``) gets
        its own only (asking for another's is ``OTHER_HOSPITAL``)."""
        if tenant is not None and hospital and hospital != tenant:
            raise PermissionDenied(f"{tenant} may not list the cases of {hospital}", reason="OTHER_HOSPITAL",
                                   metadata={"fixmedins_code": hospital})
        limit = page_size(size, *CASES_PAGE)
        after = decode_token(token)  # the request's own errors before the run's existence
        stored = await self.finished(name, "parent")
        async with self._uows() as uow:
            found = await uow.runs.cases(stored.run_id, tenant or hospital or None, after, limit + 1)
        page = found[:limit]
        return stored, page, encode_token(page[-1].list_id) if len(found) > limit else ""

    async def case(self, name: str, tenant: str | None) -> tuple[StoredRun, CaseOutcome]:
        run, list_id = parse_case_name(name, "name")
        stored = await self.finished(run, "name")
        async with self._uows() as uow:
            case = await uow.runs.case(stored.run_id, list_id)
        # Another hospital's case does not exist for a hospital: its list ids do not leak (README "Tenant
        # isolation": a single resource of another tenant is NOT_FOUND).
        if case is None or (tenant is not None and case.hospital != tenant):
            raise NotFound(f"run {run} did not settle list {list_id}", reason="CASE_NOT_FOUND",
                           metadata={"name": name})
        return stored, case


@dataclass(frozen=True)
class Pinned:
    """A run's inputs as resolved when it started."""

    region: str
    period: Period
    sequence: int
    policy: PolicyVersion
    table: WeightTableVersion
    review_deductions: dict[str, int] = field(default_factory=dict)
    """hospital -> fen smart review confirmed, as read when a clearing started (empty otherwise)."""
    review_carried: dict[str, dict[str, int]] = field(default_factory=dict)
    """year -> hospital -> fen of earlier cleared years' confirmed amounts this run deducts (worked out by the job
    under the carry lock; read back from the stored totals when reproduced)."""


def _type(period: Period) -> RunType:
    return RunType.ADVANCE if period.is_month else RunType.CLEARING


def _refuse_settled(finished: Sequence[StoredRun], region: str, period: Period, run_id: str) -> None:
    """A month is advanced once and a year cleared once; a cleared year takes no more advances."""
    for other in finished:
        if other.run_id == run_id:
            continue
        if other.period == str(period):
            raise FailedPrecondition(
                f"{period} of region {region} was settled by {other.name}: lists revised or revoked since come as "
                "adjustments of the next month's run", reason="PERIOD_ALREADY_SETTLED",
                metadata={"settlement_run": other.name})
        if period.is_month and other.run_type is RunType.CLEARING:
            raise FailedPrecondition(f"{period.year} of region {region} was cleared by {other.name}",
                                     reason="YEAR_ALREADY_CLEARED", metadata={"settlement_run": other.name})


def _paid(lines: Sequence[tuple[str, str, Any]]) -> dict[tuple[str, str], Paid]:
    """What earlier runs paid per (hospital, month), in their order: the sum and the last line's cases."""
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    digests: dict[tuple[str, str], str] = {}
    for _, hospital, line in lines:
        amounts[(hospital, line.month)] += line.amount
        digests[(hospital, line.month)] = line.cases_digest
    return {key: Paid(amount, digests[key]) for key, amount in amounts.items()}


def _result(stored: StoredRun) -> dict[str, Any]:
    return stored.to_json()


__all__ = ["KIND", "RunRequest", "RunView", "SettlementRuns"]
