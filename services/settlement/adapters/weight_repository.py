"""Weight table versions in the ``settlement`` schema (``weight_table`` and its ``weight_group`` rows)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.weight_tables import TableSource, WeightTableVersion
from ..domain.weights import GroupWeight, LevelBasis, WeightTable
from .tables import weight_group, weight_table


class WeightTableRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, region: str, year: int) -> None:
        """Serialise numbering of one region and year's tables (a transaction-scoped lock)."""
        await self._session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"settlement.weights/{region}"), year)))

    async def by_digest(self, region: str, year: int, digest: str) -> WeightTableVersion | None:
        row = (await self._session.execute(select(weight_table).where(
            weight_table.c.region == region, weight_table.c.year == year,
            weight_table.c.input_digest == digest))).one_or_none()
        return None if row is None else await self._with_groups(row)

    async def add(self, version: WeightTableVersion) -> WeightTableVersion:
        """Store ``version`` under the next version number of its region and year (``version.version`` ignored)."""
        last = (await self._session.execute(select(func.max(weight_table.c.version)).where(
            weight_table.c.region == version.region, weight_table.c.year == version.year))).scalar_one_or_none()
        number = (last or 0) + 1
        t = version.table
        row = (await self._session.execute(weight_table.insert().values(
            region=version.region, year=version.year, version=number, source=version.source.value,
            run_id=version.run_id, policy=version.policy, input_digest=version.input_digest,
            feed_sequence=version.feed_sequence, base_cases=version.base_cases,
            avg_all_numerator=str(t.avg_all.numerator), avg_all_denominator=str(t.avg_all.denominator),
            level_basis={str(level): [b.cost, b.rw] for level, b in sorted(t.level_basis.items())},
        ).returning(*weight_table.c))).one()
        groups = t.sorted_groups()
        if groups:
            await self._session.execute(weight_group.insert(), [
                {"region": version.region, "year": version.year, "version": number, "group_code": g.group,
                 "kept_cases": g.kept_cases, "rw": g.rw, "standard": g.standard, "source": g.source}
                for g in groups])
        return _version(row, {g.group: g for g in groups})

    async def get(self, region: str, year: int, version: int) -> WeightTableVersion | None:
        row = (await self._session.execute(select(weight_table).where(
            weight_table.c.region == region, weight_table.c.year == year,
            weight_table.c.version == version))).one_or_none()
        return None if row is None else await self._with_groups(row)

    async def latest(self, region: str, year: int) -> WeightTableVersion | None:
        row = (await self._session.execute(select(weight_table).where(
            weight_table.c.region == region, weight_table.c.year == year
        ).order_by(weight_table.c.version.desc()).limit(1))).one_or_none()
        return None if row is None else await self._with_groups(row)

    async def page(self, region: str, year: int, after: tuple[int, int] | None,
                   limit: int) -> list[WeightTableVersion]:
        query = select(weight_table).where(weight_table.c.region == region)
        if year:
            query = query.where(weight_table.c.year == year)
        if after is not None:
            query = query.where((weight_table.c.year > after[0])
                                | ((weight_table.c.year == after[0]) & (weight_table.c.version > after[1])))
        rows = (await self._session.execute(query.order_by(weight_table.c.year, weight_table.c.version)
                                            .limit(limit))).all()
        return [await self._with_groups(r) for r in rows]

    async def groups(self, region: str, year: int, version: int, after: str, limit: int) -> list[GroupWeight]:
        rows = await self._session.execute(select(weight_group).where(
            weight_group.c.region == region, weight_group.c.year == year, weight_group.c.version == version,
            weight_group.c.group_code > after).order_by(weight_group.c.group_code).limit(limit))
        return [_group(r) for r in rows]

    async def _with_groups(self, row: Any) -> WeightTableVersion:
        rows = await self._session.execute(select(weight_group).where(
            weight_group.c.region == row.region, weight_group.c.year == row.year,
            weight_group.c.version == row.version))
        return _version(row, {r.group_code: _group(r) for r in rows})


def _group(row: Any) -> GroupWeight:
    return GroupWeight(row.group_code, row.kept_cases, row.rw, row.standard, row.source)


def _version(row: Any, groups: dict[str, GroupWeight]) -> WeightTableVersion:
    avg_all = Fraction(int(row.avg_all_numerator), int(row.avg_all_denominator))
    basis = {int(level): LevelBasis(int(v[0]), int(v[1])) for level, v in dict(row.level_basis).items()}
    return WeightTableVersion(
        region=row.region, year=row.year, version=row.version, source=TableSource(row.source), run_id=row.run_id,
        policy=row.policy, input_digest=row.input_digest, feed_sequence=row.feed_sequence,
        base_cases=row.base_cases, table=WeightTable(groups, avg_all, basis), created_at=row.created_at)
