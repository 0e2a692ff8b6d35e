"""Reading a run's results: indicators (filtered, paged), group profiles, a hospital's scorecard.

``tenant`` is who asks: ``None`` for the bureau (everything), a hospital's institution code for that hospital (the
region's figures and its own rows; another hospital's scorecard is PERMISSION_DENIED). Authentication decides it;
these queries only apply it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from libs.common.errors import InvalidArgument, NotFound, PermissionDenied
from libs.common.paging import decode_token, encode_token, page_size

from ...adapters.indicators.repository import LEVEL_CODE, WHOLE_PERIOD, StoredRun, StoredUnit
from ...domain.indicators.compute import LEVEL_ORDER, Level
from ...domain.indicators.groups import GroupProfile
from .unit_of_work import EvaluationUnitOfWork

UowFactory = Callable[[], EvaluationUnitOfWork]
RUN_NAME = re.compile(r"regions/([0-9]{6})/evaluationRuns/([0-9a-f]{32})")
INDICATORS_PAGE = (500, 5000)
GROUPS_PAGE = (500, 5000)


def run_name(region: str, run_id: str) -> str:
    return f"regions/{region}/evaluationRuns/{run_id}"


def parse_run_name(name: str, field: str = "name") -> tuple[str, str]:
    """(region, run id) of ``regions/{region}/evaluationRuns/{run}``; INVALID_ARGUMENT otherwise."""
    matched = RUN_NAME.fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not an evaluation run name "
                                    "(regions/{region}/evaluationRuns/{run})")
    return matched[1], matched[2]


async def stored_run(uow: EvaluationUnitOfWork, name: str, field: str = "name") -> StoredRun:
    region, run_id = parse_run_name(name, field)
    run = await uow.results.run(run_id)
    if run is None or run.region != region:
        raise NotFound(f"no finished evaluation run {name}", reason="RUN_NOT_FOUND", metadata={"name": name})
    return run


@dataclass(frozen=True)
class IndicatorPage:
    units: list[StoredUnit]
    next_page_token: str


async def list_indicators(uows: UowFactory, parent: str, *, level: Level | None = None, unit: str = "",
                          month: str = WHOLE_PERIOD, size: int = 0, token: str = "",
                          tenant: str | None = None) -> IndicatorPage:
    """A page of a run's indicators over the whole period (or one ``yyyy-MM`` month), by level then unit
    (byte order)."""
    limit = page_size(size, *INDICATORS_PAGE)
    after = _indicator_cursor(decode_token(token))
    async with uows() as uow:
        run = await stored_run(uow, parent, "parent")
        units = await uow.results.units(run.run_id, month=month, level=level, unit=unit or None, tenant=tenant,
                                        after=after, limit=limit + 1)
    more = len(units) > limit
    units = units[:limit]
    last = units[-1].figures if units else None
    cursor = f"{LEVEL_CODE[last.level]}:{last.unit}" if more and last else ""
    return IndicatorPage(units, encode_token(cursor))


@dataclass(frozen=True)
class GroupPage:
    groups: list[GroupProfile]
    next_page_token: str


async def list_groups(uows: UowFactory, parent: str, *, size: int = 0, token: str = "") -> GroupPage:
    """A page of a run's group profiles by group code. Regional figures: every tenant may read them."""
    limit = page_size(size, *GROUPS_PAGE)
    after = decode_token(token) or None
    async with uows() as uow:
        run = await stored_run(uow, parent, "parent")
        groups = await uow.results.groups(run.run_id, after=after, limit=limit + 1)
    more = len(groups) > limit
    groups = groups[:limit]
    return GroupPage(groups, encode_token(groups[-1].group if more and groups else ""))


@dataclass(frozen=True)
class PeriodPoint:
    """A hospital and the region in one earlier (or this) period: the latest run of that period."""

    run: StoredRun
    hospital: StoredUnit | None
    region: StoredUnit


@dataclass(frozen=True)
class Scorecard:
    run: StoredRun
    hospital: StoredUnit
    region: StoredUnit
    departments: list[StoredUnit]
    months: list[tuple[str, StoredUnit | None, StoredUnit]]
    """(month, the hospital's figures of the month or None without cases, the region's)."""
    periods: list[PeriodPoint]
    """Runs of the same kind of period (months, half years or years) of the region, oldest first."""
    cmi_rank: int
    hospitals_ranked: int


async def hospital_scorecard(uows: UowFactory, run: str, hospital: str, *,
                             tenant: str | None = None) -> Scorecard:
    """One hospital against the region: its indicators, its departments, month by month, period by period."""
    if tenant is not None and tenant != hospital:
        raise PermissionDenied(f"{tenant} may only see its own scorecard", reason="OTHER_HOSPITAL",
                               metadata={"hospital": hospital})
    async with uows() as uow:
        stored = await stored_run(uow, run, "parent")
        own = await uow.results.units(stored.run_id, level=Level.HOSPITAL, unit=hospital, tenant=tenant)
        if not own:
            raise NotFound(f"{hospital} has no cases in {run}", reason="HOSPITAL_NOT_FOUND",
                           metadata={"hospital": hospital})
        region = (await uow.results.units(stored.run_id, level=Level.REGION))[0]
        departments = [u for u in await uow.results.units(stored.run_id, level=Level.DEPT, tenant=hospital)
                       if u.hospital == hospital]
        monthly = await uow.results.months(stored.run_id, [(Level.REGION, "ALL"), (Level.HOSPITAL, hospital)])
        rank, ranked = await uow.results.cmi_rank(stored.run_id, hospital)
        periods = await _periods(uow, stored, hospital)
    regions = {u.month: u for u in monthly if u.figures.level is Level.REGION}
    mine = {u.month: u for u in monthly if u.figures.level is Level.HOSPITAL}
    months = [(month, mine.get(month), regions[month]) for month in sorted(regions)]
    return Scorecard(stored, own[0], region, departments, months, periods, rank, ranked)


async def _periods(uow: EvaluationUnitOfWork, run: StoredRun, hospital: str) -> list[PeriodPoint]:
    latest: dict[str, StoredRun] = {}
    for other in await uow.results.runs(run.region):
        if other.period.kind is run.period.kind and other.period <= run.period:
            latest[str(other.period)] = other  # runs come oldest first: the last of a period wins
    latest[str(run.period)] = run
    points = []
    for key in sorted(latest):
        other = latest[key]
        rows = await uow.results.units(other.run_id, level=Level.HOSPITAL, unit=hospital)
        region = (await uow.results.units(other.run_id, level=Level.REGION))[0]
        points.append(PeriodPoint(other, rows[0] if rows else None, region))
    return points


def _indicator_cursor(cursor: str) -> tuple[int, str] | None:
    if not cursor:
        return None
    level, _, unit = cursor.partition(":")
    if not level.isdigit() or int(level) >= len(LEVEL_ORDER):
        raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return int(level), unit
