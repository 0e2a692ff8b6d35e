"""Special cases in PostgreSQL: the current state of each application, its decisions, and what the runs settled
(the cases one may apply for and the year's case count the cap is a share of)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.special_cases import CaseRef, Decision, SpecialCase, SpecialCaseState
from .ledger_tables import special_case, special_case_decision
from .tables import case_result, settlement_run


@dataclass(frozen=True)
class DecisionRecord:
    """A stored decision: the domain's with when it was made."""

    state: SpecialCaseState
    actor: str
    note: str
    time: datetime


@dataclass(frozen=True)
class StoredSpecialCase:
    case: SpecialCase
    history: tuple[DecisionRecord, ...]


def _case(row: Any) -> SpecialCase:
    return SpecialCase(row.region, row.setl_list_id, row.fixmedins_code, row.year, row.reason,
                       SpecialCaseState(row.state), row.decided_by, row.decision_note)


class SpecialCaseRepository:
    """Also the source of approved special cases a settlement run reads (``approved``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def approved(self, region: str, year: int) -> frozenset[str]:
        rows = await self._session.execute(select(special_case.c.setl_list_id).where(
            special_case.c.region == region, special_case.c.year == year,
            special_case.c.state == SpecialCaseState.APPROVED.value))
        return frozenset(r.setl_list_id for r in rows)

    async def lock_year(self, region: str, year: int) -> None:
        """Serialise decisions of one region and year: two approvals never both take the last place under the cap."""
        await self._session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"settlement.special_case/{region}"), year)))

    async def clearing_run(self, region: str, year: int) -> str | None:
        """The name of the run that cleared the region's ``year``, if one did."""
        run_id = (await self._session.execute(
            select(settlement_run.c.run_id).where(settlement_run.c.region == region,
                                                  settlement_run.c.period == str(year),
                                                  settlement_run.c.run_type == "clearing").limit(1))).scalar()
        return None if run_id is None else f"regions/{region}/settlementRuns/{run_id}"

    async def settled_case(self, region: str, setl_list_id: str) -> CaseRef | None:
        """The case as the region's latest run that settled it has it (hospital, discharge month's year)."""
        row = (await self._session.execute(
            select(case_result.c.fixmedins_code, case_result.c.month)
            .join(settlement_run, settlement_run.c.run_id == case_result.c.run_id)
            .where(settlement_run.c.region == region, case_result.c.setl_list_id == setl_list_id)
            .order_by(settlement_run.c.created_at.desc()).limit(1))).one_or_none()
        return None if row is None else CaseRef(region, setl_list_id, row.fixmedins_code, int(row.month[:4]))

    async def year_cases(self, region: str, year: int) -> int:
        """The distinct cases (lists) the region's runs settled with a discharge in ``year``."""
        count = (await self._session.execute(
            select(func.count(func.distinct(case_result.c.setl_list_id)))
            .join(settlement_run, settlement_run.c.run_id == case_result.c.run_id)
            .where(settlement_run.c.region == region, case_result.c.month.like(f"{year}-%")))).scalar_one()
        return int(count)

    async def count_approved(self, region: str, year: int) -> int:
        return len(await self.approved(region, year))

    async def get(self, region: str, setl_list_id: str) -> StoredSpecialCase | None:
        row = (await self._session.execute(select(special_case).where(
            special_case.c.region == region, special_case.c.setl_list_id == setl_list_id))).one_or_none()
        if row is None:
            return None
        history = (await self._session.execute(select(special_case_decision).where(
            special_case_decision.c.region == region, special_case_decision.c.setl_list_id == setl_list_id)
            .order_by(special_case_decision.c.id))).all()
        return StoredSpecialCase(_case(row), tuple(
            DecisionRecord(SpecialCaseState(h.state), h.actor, h.note, h.created_at) for h in history))

    async def save(self, case: SpecialCase, decision: Decision, request_id: str, request_digest: str) -> None:
        """Store the case's new state and append the decision that made it."""
        values = {"fixmedins_code": case.fixmedins_code, "year": case.year, "reason": case.reason,
                  "state": case.state.value, "decided_by": case.decided_by, "decision_note": case.decision_note,
                  "updated_at": func.now()}
        await self._session.execute(insert(special_case).values(
            region=case.region, setl_list_id=case.setl_list_id, **values).on_conflict_do_update(
            index_elements=[special_case.c.region, special_case.c.setl_list_id], set_=values))
        await self._session.execute(special_case_decision.insert().values(
            region=case.region, setl_list_id=case.setl_list_id, state=decision.state.value, actor=decision.actor,
            note=decision.note, request_id=request_id, request_digest=request_digest))

    async def by_request(self, region: str, request_id: str) -> tuple[str, str] | None:
        """The (setl_list_id, request digest) a request_id was used for."""
        row = (await self._session.execute(select(
            special_case_decision.c.setl_list_id, special_case_decision.c.request_digest).where(
            special_case_decision.c.region == region, special_case_decision.c.request_id == request_id))).one_or_none()
        return None if row is None else (row.setl_list_id, row.request_digest)

    async def page(self, region: str, *, fixmedins_code: str, year: int, state: SpecialCaseState | None,
                   after: str, limit: int) -> list[StoredSpecialCase]:
        query = select(special_case.c.setl_list_id).where(special_case.c.region == region,
                                                          special_case.c.setl_list_id > after)
        if fixmedins_code:
            query = query.where(special_case.c.fixmedins_code == fixmedins_code)
        if year:
            query = query.where(special_case.c.year == year)
        if state is not None:
            query = query.where(special_case.c.state == state.value)
        ids = [r.setl_list_id for r in await self._session.execute(
            query.order_by(special_case.c.setl_list_id).limit(limit))]
        out = []
        for setl_list_id in ids:
            stored = await self.get(region, setl_list_id)
            if stored is not None:
                out.append(stored)
        return out
