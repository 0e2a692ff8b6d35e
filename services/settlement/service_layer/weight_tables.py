"""Weight tables: computed from the base years' cases of the case feed (a run of their own, stored with the
digest of their inputs, so the same inputs give the same table) or imported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from libs.common.dates import Period
from libs.common.errors import FailedPrecondition, InvalidArgument, NotFound
from libs.common.paging import decode_token, encode_token, page_size
from libs.common.runs import Run, RunContext, Runs, StartRun, digest

from ..domain.cases import History
from ..domain.errors import CalculationError
from ..domain.policies import PolicyVersion
from ..domain.weight_tables import TableSource, WeightTableVersion
from ..domain.weights import GroupWeight, WeightTable, compute_weights
from .feed import CaseFeed, pin_sequence
from .names import parse_weight_table_name
from .policies import Policies
from .unit_of_work import SettlementUnitOfWork

KIND = "settlement.weights"
TABLES_PAGE = (100, 1000)
GROUPS_PAGE = (500, 5000)
MAX_IMPORTED_GROUPS = 10_000

UowFactory = Callable[[], SettlementUnitOfWork]


@dataclass(frozen=True)
class ComputeRequest:
    region: str
    year: int
    policy: str
    """A policy name, or empty for the year's active version."""
    feed_sequence: int


@dataclass(frozen=True)
class ImportedGroup:
    group: str
    kept_cases: int
    rw: Decimal
    standard_fen: int


def history_inputs(version: PolicyVersion, feed_sequence: int) -> dict[str, Any]:
    """What a computed table depends on: the region, the year, the scheme, the weights parameters and the feed
    sequence (not the policy's name: two versions with the same weights parameters give the same table)."""
    return {"region": version.region, "year": version.year, "scheme": version.group_scheme.value,
            "weights": version.parameters["weights"], "feed_sequence": feed_sequence,
            "hospital_levels": version.hospital_levels}


def table_result(version: WeightTableVersion) -> dict[str, Any]:
    """A computed table as its run's result (JSON; the operation's response is built from it)."""
    return {"region": version.region, "year": version.year, "version": version.version,
            "source": version.source.value, "run_id": version.run_id, "policy": version.policy,
            "input_digest": version.input_digest, "feed_sequence": version.feed_sequence,
            "base_cases": version.base_cases, "avg_all": [version.table.avg_all.numerator,
                                                          version.table.avg_all.denominator],
            "groups": len(version.table.groups),
            "created_at": None if version.created_at is None else version.created_at.isoformat()}


class WeightTables:
    def __init__(self, uows: UowFactory, feed: CaseFeed, policies: Policies) -> None:
        self._uows = uows
        self._feed = feed
        self._policies = policies
        self.runs: Runs | None = None

    def _runs(self) -> Runs:
        if self.runs is None:
            raise RuntimeError("WeightTables.runs is not set (bootstrap sets it)")
        return self.runs

    async def start(self, request: ComputeRequest) -> Run:
        version = await self._policies.resolve(request.region, request.year, request.policy, "weight_table.policy")
        sequence = await pin_sequence(self._feed, request.feed_sequence, "weight_table.case_feed_sequence")
        inputs = history_inputs(version, sequence)
        return await self._runs().start(StartRun(
            KIND, run_key=f"{request.region}/{request.year}/{version.policy_id}/{sequence}",
            parameters={"region": request.region, "year": request.year, "policy": version.name,
                        "feed_sequence": sequence},
            input_digest=digest(inputs), versions={"policy": version.name, "case_feed": str(sequence)},
            unit="cases"))

    async def job(self, ctx: RunContext) -> dict[str, Any]:
        p = ctx.run.parameters
        version = await self._policies.get(str(p["policy"]))
        region, year, sequence = str(p["region"]), int(p["year"]), int(p["feed_sequence"])
        input_digest = digest(history_inputs(version, sequence))
        async with self._uows() as uow:
            done = await uow.weights.by_digest(region, year, input_digest)
        if done is not None:
            return table_result(done)
        policy = version.policy()
        history, read = History(), 0
        periods = [Period(y) for y in sorted(policy.weights.years)]
        async for chunk in self._feed.cases(region, periods, sequence):
            for case in chunk:
                if not case.active:
                    continue
                level = case.hospital_level or version.hospital_levels.get(case.hospital, 0)
                if level not in (1, 2, 3):
                    raise CalculationError(f"hospital {case.hospital}", "has no hospital level (the case feed says "
                                           "0): register the institution with its level in the coding service or "
                                           "give it in the policy's hospital_levels")
                history.add(case.group(version.group_scheme), int(case.month[:4]), level, case.total_fen)
                read += 1
            await ctx.report(read, message="reading the base years' cases")
        if not read:
            raise FailedPrecondition(f"no active case of region {region} in the base years "
                                     f"{', '.join(map(str, sorted(policy.weights.years)))} at feed sequence "
                                     f"{sequence}", reason="NO_CASES", metadata={"region": region})
        await ctx.report(read, message="computing weights", force=True)
        table = await asyncio.to_thread(compute_weights, history, policy.weights)
        async with self._uows() as uow:
            await uow.weights.lock(region, year)
            stored = await uow.weights.by_digest(region, year, input_digest)
            if stored is None:
                stored = await uow.weights.add(WeightTableVersion(
                    region=region, year=year, version=0, source=TableSource.COMPUTED, run_id=ctx.run.id,
                    policy=version.name, input_digest=input_digest, feed_sequence=sequence, base_cases=read,
                    table=table))
            await ctx.save("stored", done=read, connection=await uow.session.connection())
            await uow.commit()
        return table_result(stored)

    async def import_table(self, region: str, year: int, avg_all: Decimal,
                           groups: list[ImportedGroup]) -> WeightTableVersion:
        if not 2000 <= year <= 2100:
            raise InvalidArgument.field("year", f"{year} is not a settlement year (2000-2100)")
        if avg_all <= 0:
            raise InvalidArgument.field("avg_all", "must be positive")
        if not groups:
            raise InvalidArgument.field("groups", "name at least one group")
        if len(groups) > MAX_IMPORTED_GROUPS:
            raise InvalidArgument(f"{len(groups)} groups, at most {MAX_IMPORTED_GROUPS}", reason="BATCH_TOO_LARGE",
                                  metadata={"field": "groups"})
        weights: dict[str, GroupWeight] = {}
        for i, g in enumerate(groups):
            if not g.group or g.group in weights:
                raise InvalidArgument.field(f"groups[{i}].group", "empty or named twice")
            if g.rw <= 0 or g.standard_fen <= 0 or g.kept_cases < 0:
                raise InvalidArgument.field(f"groups[{i}]", "rw and standard_cost must be positive, kept_cases not "
                                            "negative")
            weights[g.group] = GroupWeight(g.group, g.kept_cases, int(g.rw.scaleb(4)), g.standard_fen, "fixed")
        table = WeightTable(weights, Fraction(avg_all))
        content = {"region": region, "year": year, "avg_all": str(avg_all),
                   "groups": [[g.group, g.kept_cases, g.rw, g.standard, g.source] for g in table.sorted_groups()]}
        input_digest = digest(content)
        async with self._uows() as uow:
            await uow.weights.lock(region, year)
            found = await uow.weights.by_digest(region, year, input_digest)
            if found is not None:
                return found
            stored = await uow.weights.add(WeightTableVersion(
                region=region, year=year, version=0, source=TableSource.IMPORTED, run_id="", policy="",
                input_digest=input_digest, feed_sequence=0, base_cases=0, table=table))
            await uow.commit()
        return stored

    async def get(self, name: str, field: str = "name") -> WeightTableVersion:
        region, year, number = parse_weight_table_name(name, field)
        async with self._uows() as uow:
            found = await uow.weights.get(region, year, number)
        if found is None:
            raise NotFound(f"no weight table {name}", reason="WEIGHT_TABLE_NOT_FOUND", metadata={"name": name})
        return found

    async def resolve(self, region: str, year: int, name: str, field: str) -> WeightTableVersion:
        """The table named, or the year's latest."""
        if name:
            found = await self.get(name, field)
            if (found.region, found.year) != (region, year):
                raise InvalidArgument.field(field, f"{name} is not a weight table of region {region}, {year}")
            return found
        async with self._uows() as uow:
            latest = await uow.weights.latest(region, year)
        if latest is None:
            raise NotFound(f"region {region} has no weight table for {year}: compute or import one",
                           reason="WEIGHT_TABLE_NOT_FOUND", metadata={"region": region, "year": str(year)})
        return latest

    async def page(self, region: str, year: int, size: int, token: str) -> tuple[list[WeightTableVersion], str]:
        if year < 0:
            raise InvalidArgument.field("year", "must not be negative")
        limit = page_size(size, *TABLES_PAGE)
        after = _year_version_cursor(decode_token(token))
        async with self._uows() as uow:
            found = await uow.weights.page(region, year, after, limit + 1)
        page = found[:limit]
        return page, encode_token(f"{page[-1].year}/{page[-1].version}") if len(found) > limit else ""

    async def groups(self, name: str, size: int, token: str) -> tuple[list[GroupWeight], str]:
        limit = page_size(size, *GROUPS_PAGE)
        after = decode_token(token)  # the request's own errors before the table's existence
        table = await self.get(name, "parent")
        async with self._uows() as uow:
            found = await uow.weights.groups(table.region, table.year, table.version, after, limit + 1)
        page = found[:limit]
        return page, encode_token(page[-1].group) if len(found) > limit else ""


def _year_version_cursor(cursor: str) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        year, version = cursor.split("/")
        return int(year), int(version)
    except ValueError:
        raise InvalidArgument.field("page_token", "not a token returned by this service",
                                    "INVALID_PAGE_TOKEN") from None
