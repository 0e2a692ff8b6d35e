"""Policy versions in the ``settlement`` schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.policies import GroupScheme, PolicyDraft, PolicyState, PolicyVersion
from .tables import policy


def _version(row: Any) -> PolicyVersion:
    return PolicyVersion(
        region=row.region, year=row.year, version=row.version, parameters=dict(row.parameters),
        parameters_digest=row.parameters_digest, group_scheme=GroupScheme(row.group_scheme),
        effective_start=row.effective_start, effective_end=row.effective_end, description=row.description,
        state=PolicyState(row.state), approved_by=row.approved_by, created_at=row.created_at,
        activated_at=row.activated_at, hospital_levels={k: int(v) for k, v in dict(row.hospital_levels).items()})


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_region(self, region: str, year: int) -> None:
        """Serialise version numbering and activation of one region and year (a transaction-scoped lock)."""
        await self._session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"settlement.policy/{region}"),
                                                                      year)))

    async def by_request(self, region: str, request_id: str) -> tuple[PolicyVersion, str] | None:
        row = (await self._session.execute(select(policy).where(
            policy.c.region == region, policy.c.request_id == request_id))).one_or_none()
        return None if row is None else (_version(row), row.request_digest)

    async def add(self, draft: PolicyDraft, request_id: str, request_digest: str) -> PolicyVersion:
        last = (await self._session.execute(select(func.max(policy.c.version)).where(
            policy.c.region == draft.region, policy.c.year == draft.year))).scalar_one_or_none() or 0
        row = (await self._session.execute(policy.insert().values(
            region=draft.region, year=draft.year, version=last + 1, parameters=draft.parameters,
            parameters_digest=draft.digest, group_scheme=draft.group_scheme.value,
            effective_start=draft.effective_start, effective_end=draft.effective_end,
            description=draft.description, state=PolicyState.DRAFT.value, request_id=request_id,
            hospital_levels=draft.hospital_levels,
            request_digest=request_digest).returning(*policy.c))).one()
        return _version(row)

    async def get(self, region: str, year: int, version: int) -> PolicyVersion | None:
        row = (await self._session.execute(select(policy).where(
            policy.c.region == region, policy.c.year == year, policy.c.version == version))).one_or_none()
        return None if row is None else _version(row)

    async def active(self, region: str, year: int) -> PolicyVersion | None:
        row = (await self._session.execute(select(policy).where(
            policy.c.region == region, policy.c.year == year,
            policy.c.state == PolicyState.ACTIVE.value))).one_or_none()
        return None if row is None else _version(row)

    async def page(self, region: str, year: int, after: tuple[int, int] | None, limit: int) -> list[PolicyVersion]:
        """Versions of a region (of ``year`` unless 0) by (year, version) after the cursor, ``limit`` of them."""
        query = select(policy).where(policy.c.region == region)
        if year:
            query = query.where(policy.c.year == year)
        if after is not None:
            query = query.where((policy.c.year > after[0])
                                | ((policy.c.year == after[0]) & (policy.c.version > after[1])))
        rows = await self._session.execute(query.order_by(policy.c.year, policy.c.version).limit(limit))
        return [_version(r) for r in rows]

    async def activate(self, version: PolicyVersion, approved_by: str) -> PolicyVersion:
        await self._session.execute(update(policy).where(
            policy.c.region == version.region, policy.c.year == version.year,
            policy.c.state == PolicyState.ACTIVE.value).values(state=PolicyState.SUPERSEDED.value))
        row = (await self._session.execute(update(policy).where(
            policy.c.region == version.region, policy.c.year == version.year,
            policy.c.version == version.version).values(
            state=PolicyState.ACTIVE.value, approved_by=approved_by, activated_at=func.now()
        ).returning(*policy.c))).one()
        return _version(row)
