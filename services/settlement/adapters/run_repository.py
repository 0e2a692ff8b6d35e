"""Settlement runs' results in the ``settlement`` schema: the run row, case results, hospital statements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.results import Kind
from ..domain.runs import CaseOutcome, MonthLine, RunOutcome, RunStatement, RunType
from .tables import case_result, hospital_statement, settlement_run

INSERT_CHUNK = 5000


@dataclass(frozen=True)
class StoredRun:
    """A finished settlement run as stored."""

    run_id: str
    region: str
    period: str
    run_type: RunType
    policy: str
    weight_table: str
    feed_sequence: int
    method: str
    cases: int
    hospitals: int
    total_points: int | None
    fund_ratio: int | None
    point_value: int | None
    provisional_point_value: int
    """The policy's provisional point value, rounded to 1/1,000,000 (the exact text is in ``totals``)."""
    totals: dict[str, Any]
    statements_digest: str
    created_at: datetime | None

    @property
    def name(self) -> str:
        return f"regions/{self.region}/settlementRuns/{self.run_id}"

    @property
    def builds_on(self) -> list[str]:
        return list(self.totals.get("builds_on", []))

    def to_json(self) -> dict[str, Any]:
        """The run as its operation's result (JSON), read back by :meth:`from_json`."""
        return {"run_id": self.run_id, "region": self.region, "period": self.period,
                "run_type": self.run_type.value, "policy": self.policy, "weight_table": self.weight_table,
                "feed_sequence": self.feed_sequence, "method": self.method, "cases": self.cases,
                "hospitals": self.hospitals, "total_points": self.total_points, "fund_ratio": self.fund_ratio,
                "point_value": self.point_value, "provisional_point_value": self.provisional_point_value,
                "totals": self.totals, "statements_digest": self.statements_digest}

    @staticmethod
    def from_json(raw: dict[str, Any]) -> StoredRun:
        return StoredRun(**{**raw, "run_type": RunType(raw["run_type"]), "created_at": None})


@dataclass(frozen=True)
class StoredStatement:
    run_id: str
    statement: RunStatement
    document: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.document).hexdigest()


def statements_digest(documents: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for document in documents:
        h.update(hashlib.sha256(document).digest())
    return h.hexdigest()


class SettlementRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, region: str, year: int) -> None:
        """Serialise the runs of one region and year at their last transaction (transaction-scoped)."""
        await self._session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"settlement.runs/{region}"), year)))

    async def lock_carry(self, region: str) -> None:
        """Serialise the runs of a region (of any year) that carry review deductions of cleared years, so that two
        runs never carry the same amount (transaction-scoped; taken after :meth:`lock`, always in that order)."""
        await self._session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"settlement.review-carry/{region}"), 0)))

    async def of_year(self, region: str, year: int) -> list[StoredRun]:
        """The finished runs of a region's year (its months and its clearing), oldest first."""
        rows = await self._session.execute(select(settlement_run).where(
            settlement_run.c.region == region,
            (settlement_run.c.period == str(year)) | settlement_run.c.period.like(f"{year}-%"),
        ).order_by(settlement_run.c.created_at, settlement_run.c.run_id))
        return [_run(r) for r in rows]

    async def of_region(self, region: str) -> list[StoredRun]:
        """Every finished run of a region, oldest first (a few a month: what carried deductions are read from)."""
        rows = await self._session.execute(select(settlement_run).where(settlement_run.c.region == region)
                                           .order_by(settlement_run.c.created_at, settlement_run.c.run_id))
        return [_run(r) for r in rows]

    async def get(self, run_id: str) -> StoredRun | None:
        row = (await self._session.execute(select(settlement_run).where(
            settlement_run.c.run_id == run_id))).one_or_none()
        return None if row is None else _run(row)

    async def page(self, region: str, year: int, after: tuple[datetime, str] | None,
                   limit: int) -> list[StoredRun]:
        query = select(settlement_run).where(settlement_run.c.region == region)
        if year:
            query = query.where((settlement_run.c.period == str(year)) | settlement_run.c.period.like(f"{year}-%"))
        if after is not None:
            query = query.where((settlement_run.c.created_at > after[0])
                                | ((settlement_run.c.created_at == after[0]) & (settlement_run.c.run_id > after[1])))
        rows = await self._session.execute(query.order_by(settlement_run.c.created_at, settlement_run.c.run_id)
                                           .limit(limit))
        return [_run(r) for r in rows]

    async def month_lines(self, run_ids: Sequence[str]) -> list[tuple[str, str, MonthLine]]:
        """(run id, hospital, line) of every statement line of the runs, in the runs' order given."""
        if not run_ids:
            return []
        rows = list((await self._session.execute(select(
            hospital_statement.c.run_id, hospital_statement.c.fixmedins_code, hospital_statement.c.months
        ).where(hospital_statement.c.run_id.in_(list(run_ids))))).all())
        order = {run_id: i for i, run_id in enumerate(run_ids)}
        rows.sort(key=lambda r: (order[r.run_id], r.fixmedins_code))
        return [(r.run_id, r.fixmedins_code, MonthLine.from_json(line)) for r in rows for line in r.months]

    async def add(self, run: StoredRun, outcome: RunOutcome, documents: Sequence[bytes]) -> None:
        await self._session.execute(settlement_run.insert().values(
            run_id=run.run_id, region=run.region, period=run.period, run_type=run.run_type.value,
            policy=run.policy, weight_table=run.weight_table, feed_sequence=run.feed_sequence, method=run.method,
            cases=run.cases, hospitals=run.hospitals, total_points=run.total_points, fund_ratio=run.fund_ratio,
            point_value=run.point_value, provisional_point_value=run.provisional_point_value, totals=run.totals,
            statements_digest=run.statements_digest))
        # Each row carries the run's region (the distribution key of a region-distributed layout).
        rows = [_case_row(run.run_id, c) | {"region": run.region} for c in outcome.cases]
        for start in range(0, len(rows), INSERT_CHUNK):
            await self._session.execute(case_result.insert(), rows[start:start + INSERT_CHUNK])
        if outcome.statements:
            await self._session.execute(hospital_statement.insert(), [
                _statement_row(run.run_id, s, d) | {"region": run.region}
                for s, d in zip(outcome.statements, documents, strict=True)])

    async def statements(self, run_id: str, hospital: str | None, after: str, limit: int) -> list[StoredStatement]:
        query = select(hospital_statement).where(hospital_statement.c.run_id == run_id,
                                                 hospital_statement.c.fixmedins_code > after)
        if hospital is not None:
            query = query.where(hospital_statement.c.fixmedins_code == hospital)
        rows = await self._session.execute(query.order_by(hospital_statement.c.fixmedins_code).limit(limit))
        return [_statement(r) for r in rows]

    async def cases(self, run_id: str, hospital: str | None, after: str, limit: int) -> list[CaseOutcome]:
        """A run's case results by list id after ``after``, of one hospital when given."""
        query = select(case_result).where(case_result.c.run_id == run_id, case_result.c.setl_list_id > after)
        if hospital is not None:
            query = query.where(case_result.c.fixmedins_code == hospital)
        rows = await self._session.execute(query.order_by(case_result.c.setl_list_id).limit(limit))
        return [_case(r) for r in rows]

    async def case(self, run_id: str, list_id: str) -> CaseOutcome | None:
        row = (await self._session.execute(select(case_result).where(
            case_result.c.run_id == run_id, case_result.c.setl_list_id == list_id))).one_or_none()
        return None if row is None else _case(row)


def _run(row: Any) -> StoredRun:
    return StoredRun(
        run_id=row.run_id, region=row.region, period=row.period, run_type=RunType(row.run_type), policy=row.policy,
        weight_table=row.weight_table, feed_sequence=row.feed_sequence, method=row.method, cases=row.cases,
        hospitals=row.hospitals, total_points=row.total_points, fund_ratio=row.fund_ratio,
        point_value=row.point_value, provisional_point_value=row.provisional_point_value or 0,
        totals=dict(row.totals), statements_digest=row.statements_digest, created_at=row.created_at)


def _case_row(run_id: str, c: CaseOutcome) -> dict[str, Any]:
    return {"run_id": run_id, "setl_list_id": c.list_id, "revision": c.revision, "fixmedins_code": c.hospital,
            "month": c.month, "group_code": c.group, "kind": int(c.kind), "rw": c.rw, "base_points": c.base_points,
            "points": c.points, "standard": c.standard, "basis": c.basis, "fund_due": c.fund_due,
            "halved": c.halved, "total_cost": c.total_cost, "terms": c.terms}


def _case(row: Any) -> CaseOutcome:
    return CaseOutcome(
        list_id=row.setl_list_id, revision=row.revision, hospital=row.fixmedins_code, month=row.month,
        group=row.group_code, kind=Kind(row.kind), rw=row.rw, base_points=row.base_points, points=row.points,
        standard=row.standard, basis=row.basis, fund_due=row.fund_due, halved=row.halved,
        total_cost=row.total_cost, terms=dict(row.terms))


def _statement_row(run_id: str, s: RunStatement, document: bytes) -> dict[str, Any]:
    return {"run_id": run_id, "fixmedins_code": s.hospital, "cases": s.cases, "points": s.points, "cmi": s.cmi,
            "gross": s.gross, "assessed": s.assessed, "advances": s.advances, "adjustments": s.adjustments,
            "deductions": s.deductions, "balance": s.balance, "surplus": s.surplus,
            "months": [m.to_json() for m in s.months], "document": document, "case_kinds": s.case_kinds}


def _statement(row: Any) -> StoredStatement:
    statement = RunStatement(
        hospital=row.fixmedins_code, cases=row.cases, points=row.points, cmi=row.cmi, gross=row.gross,
        assessed=row.assessed, advances=row.advances, adjustments=row.adjustments, deductions=row.deductions,
        balance=row.balance, surplus=row.surplus, months=tuple(MonthLine.from_json(m) for m in row.months),
        case_kinds={k: int(v) for k, v in dict(row.case_kinds).items()})
    return StoredStatement(row.run_id, statement, bytes(row.document))
