"""Evaluation runs: start one (idempotent by its inputs), and the job that computes and stores it.

A run of region R and period P pins collection's case feed at a sequence S (the head when not given) and a weight
table (a settlement run's; for a half year, which has no settlement run, the weight table of its year's advance
runs or the year's latest; or one given with the request), reads the active cases of P's months as of S, computes
every indicator, and stores the results, the pinned versions and an input digest in one transaction with its
checkpoint. Re-running the same inputs reads the same cases and gives the same figures.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from libs.common.errors import FailedPrecondition, InvalidArgument
from libs.common.runs import Run, RunContext, Runs, StartRun, digest

from ...adapters.indicators.collection_feed import FeedCase
from ...adapters.indicators.repository import StoredRun
from ...adapters.indicators.review_flags import review_counts
from ...domain.indicators.compute import UNGROUPABLE, Level, NoCasesError
from ...domain.indicators.context import PaymentFigures, QualityFigures, ReviewFigures, review_figures
from ...domain.indicators.evaluation import evaluate
from ...domain.indicators.periods import EvaluationPeriod, PeriodKind
from ...domain.indicators.table import CaseTable, CaseTableBuilder, CaseValueError
from .results import REGION, Contributions, Institution, stored_units
from .unit_of_work import EvaluationUnitOfWork

KIND = "evaluation.run"
DEFAULT_UPLOAD_DEADLINE_DAYS = 30
"""结算清单 are due within 30 days of discharge (the national filling rules); a run may use another deadline."""
UNKNOWN_CODE = "-"
"""A department or doctor code a list left empty: still a case, of an unknown unit."""
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WeightTable:
    version: str
    """What the table is, for the run's versions: a settlement weight-table version or a digest."""
    scheme_id: str
    """The scheme whose groups the weights are for; ``""`` when any (each case's latest group)."""
    rw: Mapping[str, int]
    """Group -> weight in ten-thousandths."""


@dataclass(frozen=True)
class SettlementFigures:
    run: str
    weights: WeightTable
    payment: Mapping[str, PaymentFigures]
    """Per hospital, and ``ALL`` for the region."""


class CaseFeed(Protocol):
    async def head(self) -> int: ...

    def cases(self, region: str, months: Sequence[Any], sequence: int) -> Any: ...

    async def first_accepted(self, region: str, months: Sequence[Any], up_to: int) -> dict[str, datetime]: ...

    async def upload_statistics(self, region: str, first: date, last: date) -> dict[str, tuple[int, int]]: ...


class SettlementSource(Protocol):
    async def latest_run(self, region: str, period: EvaluationPeriod) -> str | None: ...

    async def figures(self, run: str) -> SettlementFigures: ...

    async def year_weight_table(self, region: str, year: int) -> str | None: ...

    async def weight_table(self, table: str) -> WeightTable: ...


class InstitutionNames(Protocol):
    async def name(self, code: str) -> str: ...


@dataclass(frozen=True)
class RunRequest:
    region: str
    period: EvaluationPeriod
    feed_sequence: int = 0
    settlement_run: str = ""
    weights: Mapping[str, int] | None = None
    upload_deadline_days: int = DEFAULT_UPLOAD_DEADLINE_DAYS


@dataclass
class EvaluationRuns:
    """Starting runs and executing their job."""

    uows: Callable[[], EvaluationUnitOfWork]
    feed: CaseFeed
    settlement: SettlementSource | None
    names: InstitutionNames | None
    runs: Runs | None = None
    review: bool = False
    """Read smart review's findings of the period (schema ``review``, the same service's) into the run."""

    async def start(self, request: RunRequest) -> Run:
        """Pins the feed sequence and the weight source, then starts (or finds) the run of those inputs."""
        assert self.runs is not None, "bind the Runs first"
        sequence = request.feed_sequence or await self.feed.head()
        parameters: dict[str, Any] = {"region": request.region, "period": str(request.period),
                                      "feed_sequence": sequence, "upload_deadline_days": request.upload_deadline_days}
        if request.weights is not None:
            parameters["weights"] = dict(sorted(request.weights.items()))
            source = "weights:" + digest(parameters["weights"])[:16]
        elif request.period.kind is PeriodKind.HALF_YEAR and not request.settlement_run:
            parameters["weight_table"] = await self._year_weight_table(request)
            source = f"weight_table:{parameters['weight_table']}"
        else:
            settlement_run = request.settlement_run or await self._latest_settlement_run(request)
            parameters["settlement_run"] = settlement_run
            source = f"settlement:{settlement_run}"
        key = f"{request.region}/{request.period}/{sequence}/{source}/{request.upload_deadline_days}"
        return await self.runs.start(StartRun(KIND, run_key=key, parameters=parameters, unit="cases",
                                              versions={"case_feed_sequence": str(sequence)}))

    async def _latest_settlement_run(self, request: RunRequest) -> str:
        latest = await self.settlement.latest_run(request.region, request.period) if self.settlement else None
        if latest is None:
            raise FailedPrecondition(
                f"no weight table for {request.region} {request.period}: no settlement run of the period"
                + ("" if self.settlement else " (no settlement service is configured)")
                + "; give a settlement run or the weights", reason="WEIGHTS_NOT_FOUND",
                metadata={"region": request.region, "period": str(request.period)})
        return latest

    async def _year_weight_table(self, request: RunRequest) -> str:
        """A half year has no settlement run: the weight table of its year's advance runs (or the year's latest)."""
        table = await self.settlement.year_weight_table(request.region, request.period.year) \
            if self.settlement else None
        if table is None:
            raise FailedPrecondition(
                f"no weight table for {request.region} {request.period}: no advance run and no weight table of "
                f"{request.period.year}" + ("" if self.settlement else " (no settlement service is configured)")
                + "; give the weights", reason="WEIGHTS_NOT_FOUND",
                metadata={"region": request.region, "period": str(request.period)})
        return table

    async def job(self, ctx: RunContext) -> dict[str, Any]:
        """Reads, computes and stores the run (everything in one transaction with the checkpoint)."""
        if ctx.checkpoint:  # stored by an earlier attempt that ended before the run was marked finished
            return dict(ctx.checkpoint)
        p = ctx.run.parameters
        region, period = str(p["region"]), EvaluationPeriod.parse(str(p["period"]))
        sequence = int(p["feed_sequence"])
        await ctx.report(0, message="pinning the weight table")
        settlement = await self._settlement(p)
        weights = settlement.weights if settlement else await self._weights(p)
        await ctx.report(0, message=f"reading cases of {period} as of feed sequence {sequence}")
        cases = [case async for case in self.feed.cases(region, period.months(), sequence)]
        active = [case for case in cases if case.active]
        await ctx.report(len(active), total=len(active), message="reading upload times")
        accepted = await self.feed.first_accepted(region, period.months(), sequence)
        first_day, last_day = upload_window(period, int(p["upload_deadline_days"]))
        await ctx.report(len(active), message=f"reading upload QC statistics of {first_day} to {last_day}")
        uploads = await self.feed.upload_statistics(region, first_day, last_day)
        table, months, schemes = case_table(active, weights.scheme_id)
        try:
            result = evaluate(table, months, weights.rw)
        except NoCasesError:
            raise FailedPrecondition(f"no active case of {region} {period} at feed sequence {sequence}",
                                     reason="NO_CASES", metadata={"region": region, "period": str(period)}) from None
        await ctx.report(len(active), message="storing indicators")
        institutions = await self._institutions(active)
        review, review_version = await self._review_figures(region, period, active)
        contributions = Contributions(
            quality=quality_figures(active, accepted, int(p["upload_deadline_days"]), uploads),
            payment=settlement.payment if settlement else {}, review=review)
        versions = {"case_feed_sequence": str(sequence), "weights": weights.version,
                    "schemes": ",".join(sorted(schemes)), "upload_dates": f"{first_day}/{last_day}"}
        if review_version:
            versions["review_flags"] = review_version
        if settlement:
            versions["settlement_run"] = settlement.run
        summary = {"cases": len(active), "hospitals": len(institutions), "input_digest": input_digest(active, weights),
                   "versions": versions}
        stored = StoredRun(run_id=ctx.run.id, region=region, period=period, feed_sequence=sequence,
                           settlement_run=settlement.run if settlement else "", weights_version=weights.version,
                           inputs=versions, cases=len(active), hospitals=len(institutions))
        async with self.uows() as uow:
            await uow.results.save(stored, stored_units(result, institutions, contributions), result.groups)
            await ctx.save(summary, done=len(active), message="stored", connection=await uow.session.connection())
            await uow.commit()
        return summary

    async def _weights(self, parameters: Mapping[str, Any]) -> WeightTable:
        """The weights given with the request, or the weight table pinned for a half year."""
        if "weights" in parameters:
            return given_weights(parameters["weights"])
        if self.settlement is None:
            raise FailedPrecondition("the run needs a weight table of the settlement service, and none is "
                                     "configured", reason="WEIGHTS_NOT_FOUND")
        return await self.settlement.weight_table(str(parameters["weight_table"]))

    async def _settlement(self, parameters: Mapping[str, Any]) -> SettlementFigures | None:
        if "weights" in parameters or "weight_table" in parameters:
            return None
        if self.settlement is None:
            raise FailedPrecondition("the run needs a settlement run's weights, and no settlement service is "
                                     "configured", reason="WEIGHTS_NOT_FOUND")
        return await self.settlement.figures(str(parameters["settlement_run"]))

    async def _review_figures(self, region: str, period: EvaluationPeriod,
                              cases: Sequence[FeedCase]) -> tuple[dict[str, ReviewFigures], str]:
        """Review flags per 1,000 of each hospital's evaluated lists and its confirmed amounts, with the version
        read; nothing when review is not read or no review run covers the period."""
        if not self.review:
            return {}, ""
        return await read_review(self.uows, region, period, cases)

    async def _institutions(self, cases: Sequence[FeedCase]) -> dict[str, Institution]:
        levels = {case.hospital: case.hospital_level or None for case in cases}
        names = {code: await self.names.name(code) if self.names else "" for code in sorted(levels)}
        return {code: Institution(names[code], levels[code]) for code in levels}


async def read_review(uows: Callable[[], EvaluationUnitOfWork], region: str, period: EvaluationPeriod,
                      cases: Sequence[FeedCase]) -> tuple[dict[str, ReviewFigures], str]:
    """Smart review's findings on the evaluated lists' hospitals in ``period`` as review figures (per hospital
    and ``ALL``), and the version read; nothing when no review run covers the period."""
    async with uows() as uow:
        found = await review_counts(uow.session, region, [str(m) for m in period.months()])
    if found is None:
        return {}, ""
    lists: dict[str, int] = {}
    for case in cases:
        lists[case.hospital] = lists.get(case.hospital, 0) + 1
    return review_figures(found[0], lists, REGION), found[1]


def given_weights(weights: Mapping[str, Any]) -> WeightTable:
    table = {str(group): int(rw) for group, rw in weights.items()}
    return WeightTable(version="given:" + digest(dict(sorted(table.items())))[:16], scheme_id="", rw=table)


def case_table(cases: Sequence[FeedCase], scheme_id: str) -> tuple[CaseTable, list[str], set[str]]:
    """The cases as a table (group under ``scheme_id`` when the case has one, else its latest), their months,
    and the schemes (id@version) their groups came from."""
    builder = CaseTableBuilder()
    schemes: set[str] = set()
    groups = []
    for case in cases:
        chosen = next((g for g in case.groups if g[0] == scheme_id), case.groups[0] if case.groups else None)
        groups.append(chosen[2] if chosen else UNGROUPABLE)
        if chosen:
            schemes.add(f"{chosen[0]}@{chosen[1]}")
    try:
        builder.add(hospital=[c.hospital for c in cases], dept=[c.department or UNKNOWN_CODE for c in cases],
                    doctor=[c.doctor or UNKNOWN_CODE for c in cases], group=groups,
                    person=[c.psn_no or f"list:{c.list_id}" for c in cases],
                    adm_day=[c.admission.toordinal() for c in cases],
                    dscg_day=[c.discharge.toordinal() for c in cases], los=[c.los for c in cases],
                    cost_fen=[c.total_fen for c in cases], died=[c.discharge_way == "5" for c in cases])
    except CaseValueError as bad:
        case = cases[bad.row]
        raise FailedPrecondition(f"case {case.list_id}: {bad.field} {bad.problem}", reason="INVALID_CASE",
                                 metadata={"setl_list_id": case.list_id}) from None
    return builder.build(), [c.month for c in cases], schemes


def quality_figures(cases: Sequence[FeedCase], accepted: Mapping[str, datetime], deadline_days: int,
                    uploads: Mapping[str, tuple[int, int]] | None = None) -> dict[str, QualityFigures]:
    """Per hospital and for the region: lists accepted, and uploaded within ``deadline_days`` of discharge
    (the day of the first accepted upload in Asia/Shanghai); with ``uploads`` (institution -> attempts received,
    passed, from collection's ``ListUploadStatistics`` over the run's upload window) the QC pass rate of each
    evaluated hospital and of the region (over every institution of the region that uploaded)."""
    totals: dict[str, list[int]] = {}
    for case in cases:
        first = accepted.get(case.list_id)
        in_time = first is not None and (_day(first) - case.discharge).days <= deadline_days
        for key in (REGION, case.hospital):
            counts = totals.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += in_time
    if uploads is None:
        return {key: QualityFigures.of(n, on_time) for key, (n, on_time) in totals.items()}
    region = (sum(r for r, _ in uploads.values()), sum(p for _, p in uploads.values()))
    return {key: QualityFigures.of(n, on_time, *(region if key == REGION else uploads.get(key, (0, 0))))
            for key, (n, on_time) in totals.items()}


def upload_window(period: EvaluationPeriod, deadline_days: int) -> tuple[date, date]:
    """The days (Asia/Shanghai) whose uploads the QC pass rate counts: the period's first day to its last day plus
    the upload deadline, the time its lists are due in."""
    months = period.months()
    first, last = months[0], months[-1]
    assert first.month is not None and last.month is not None
    end = date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    return date(first.year, first.month, 1), end + timedelta(days=deadline_days)


def input_digest(cases: Sequence[FeedCase], weights: WeightTable) -> str:
    """sha256 over the cases read (by list id) and the weight table: equal digests, equal inputs."""
    h = hashlib.sha256()
    for case in sorted(cases, key=lambda c: c.list_id):
        h.update(repr((case.list_id, case.hospital, case.month, case.psn_no, case.admission.toordinal(),
                       case.discharge.toordinal(), case.los, case.discharge_way, case.department, case.doctor,
                       case.groups, case.total_fen)).encode())
        h.update(b"\n")
    h.update(digest(dict(sorted(weights.rw.items())), weights.scheme_id).encode())
    return h.hexdigest()


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def check_weights(weights: Sequence[tuple[str, str]], field: str = "evaluation_run.weights") -> dict[str, int]:
    """Weights as a request gives them: unique groups, decimals >= 0 with at most 4 places."""
    from libs.common.decimals import DecimalError, parse_decimal

    table: dict[str, int] = {}
    for index, (group, rw) in enumerate(weights):
        where = f"{field}[{index}]"
        if not group:
            raise InvalidArgument.field(f"{where}.group", "must not be empty")
        if group in table:
            raise InvalidArgument.field(f"{where}.group", f"{group} is given twice")
        try:
            value = parse_decimal(rw, 4, f"{where}.rw")
        except DecimalError as bad:
            raise InvalidArgument.field(f"{where}.rw", str(bad)) from None
        if value < 0:
            raise InvalidArgument.field(f"{where}.rw", "must not be negative")
        table[group] = int(value.scaleb(4))
    return table


__all__ = ["KIND", "EvaluationRuns", "Level", "RunRequest", "SettlementFigures", "WeightTable"]
