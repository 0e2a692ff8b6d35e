"""Persistence of fee details (2301/2302), schema ``collection``: uploads, lines, and one summary row per stay.

A line is never deleted: a 2302 marks it revoked by that revocation. At most one current (not revoked) line per
(institution, stay, feedetl_sn), enforced by a partial unique index, so a concurrent upload of the same line
fails instead of charging it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from libs.national.fees import FeeLine

from ..domain.fee_details import DetailRow, ListMoney
from ..domain.model import Finding, region_of
from .tables import SCHEMA, metadata

S = SCHEMA

fee_upload = Table(
    "fee_upload", metadata,
    Column("upload_id", BigInteger, Identity(), primary_key=True),
    Column("infno", Text, nullable=False),            # 2301 or 2302
    Column("fixmedins_code", Text, nullable=False),
    Column("region", Text, nullable=False),           # the institution's (region_of)
    Column("mdtrt_id", Text, nullable=False),
    Column("idempotency_key", Text),
    Column("line_count", Integer, nullable=False),
    Column("received_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

fee_detail = Table(
    "fee_detail", metadata,
    Column("detail_id", BigInteger, Identity(), primary_key=True),
    Column("upload_id", BigInteger, nullable=False),
    Column("revoked_by", BigInteger),                  # the 2302 upload that revoked the line
    Column("fixmedins_code", Text, nullable=False),
    Column("region", Text, nullable=False),            # the institution's (region_of)
    Column("mdtrt_id", Text, nullable=False),
    Column("feedetl_sn", Text, nullable=False),
    Column("psn_no", Text, nullable=False),
    Column("med_type", Text, nullable=False),
    Column("fee_time", Text, nullable=False),          # "yyyy-MM-dd HH:mm:ss", Asia/Shanghai, as the rules read it
    Column("med_list_codg", Text, nullable=False),
    Column("medins_list_codg", Text, nullable=False),
    Column("med_chrgitm_type", Text, nullable=False),
    Column("cnt", BigInteger, nullable=False),         # millionths
    Column("pric", BigInteger, nullable=False),        # millionths of a yuan
    Column("amount_fen", BigInteger, nullable=False),
    Column("bilg_dept_codg", Text, nullable=False),
    Column("bilg_dr_codg", Text, nullable=False),
    Column("init_feedetl_sn", Text, nullable=False),
    Index("fee_detail_stay_idx", "fixmedins_code", "mdtrt_id", "detail_id"),
    Index("fee_detail_current_sn_key", "fixmedins_code", "mdtrt_id", "feedetl_sn", unique=True,
          postgresql_where=text("revoked_by IS NULL")),
)

fee_stay = Table(
    "fee_stay", metadata,
    Column("fixmedins_code", Text, primary_key=True),
    Column("mdtrt_id", Text, primary_key=True),
    Column("region", Text, nullable=False),  # the institution's (region_of)
    Column("line_count", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("findings", JSONB, nullable=False),
    Column("update_time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


@dataclass(frozen=True)
class StaySummary:
    fixmedins_code: str
    mdtrt_id: str
    line_count: int
    total_fen: int
    findings: list[Finding]
    update_time: datetime


class FeeDetailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # idempotency (collection's table, keys "msgid:<institution>:<msgid>" or "request:<id>") ---------------------
    async def claim(self, key: str, digest: str) -> bool:
        """Claim the key for this request; False when an earlier (or concurrent, now committed) one holds it."""
        row = (await self.session.execute(text(
            f"INSERT INTO {S}.idempotency (key, digest) VALUES (:key, :digest) ON CONFLICT (key) DO NOTHING "
            f"RETURNING key"), {"key": key, "digest": digest})).first()
        return row is not None

    async def remember(self, key: str, response: Any) -> None:
        await self.session.execute(text(f"UPDATE {S}.idempotency SET response = CAST(:r AS jsonb) WHERE key = :key"),
                                   {"key": key, "r": orjson.dumps(response).decode()})

    async def stored_response(self, key: str) -> tuple[str, Any] | None:
        row = (await self.session.execute(text(f"SELECT digest, response FROM {S}.idempotency WHERE key = :key"),
                                          {"key": key})).first()
        return None if row is None or row.response is None else (row.digest, row.response)

    # lines ------------------------------------------------------------------------------------------------------
    async def lock_stay(self, fixmedins_code: str, mdtrt_id: str) -> None:
        """Serialise the writers of one stay (its summary row is recomputed from all its lines)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                                   {"k": f"fee:{fixmedins_code}:{mdtrt_id}"})

    async def current_serials(self, fixmedins_code: str, mdtrt_id: str) -> set[str]:
        rows = await self.session.execute(text(
            f"SELECT feedetl_sn FROM {S}.fee_detail WHERE fixmedins_code = :h AND mdtrt_id = :m "
            f"AND revoked_by IS NULL"), {"h": fixmedins_code, "m": mdtrt_id})
        return {r.feedetl_sn for r in rows}

    async def new_upload(self, infno: str, fixmedins_code: str, mdtrt_id: str, key: str | None, lines: int) -> int:
        row = (await self.session.execute(text(
            f"INSERT INTO {S}.fee_upload (infno, fixmedins_code, region, mdtrt_id, idempotency_key, line_count) "
            f"VALUES (:infno, :h, :region, :m, :key, :n) RETURNING upload_id"),
            {"infno": infno, "h": fixmedins_code, "region": region_of(fixmedins_code), "m": mdtrt_id, "key": key,
             "n": lines})).one()
        return int(row.upload_id)

    async def insert_lines(self, upload_id: int, fixmedins_code: str, rows: Sequence[DetailRow]) -> None:
        region = region_of(fixmedins_code)
        values = [{"upload_id": upload_id, "fixmedins_code": fixmedins_code, "region": region,
                   "mdtrt_id": r.line.mdtrt_id,
                   "feedetl_sn": r.line.sn, "psn_no": r.psn_no, "med_type": r.med_type, "fee_time": r.line.time,
                   "med_list_codg": r.line.code, "medins_list_codg": r.medins_list_codg,
                   "med_chrgitm_type": r.line.category, "cnt": r.line.cnt, "pric": r.line.pric,
                   "amount_fen": r.line.amount, "bilg_dept_codg": r.dept, "bilg_dr_codg": r.doctor,
                   "init_feedetl_sn": r.line.refers_to} for r in rows]
        await self.session.execute(fee_detail.insert(), values)

    async def revoke(self, upload_id: int, fixmedins_code: str, mdtrt_id: str, feedetl_sn: str | None) -> int:
        """Mark current lines revoked (one by its serial, or all when ``feedetl_sn`` is None); how many."""
        sql = (f"UPDATE {S}.fee_detail SET revoked_by = :u WHERE fixmedins_code = :h AND mdtrt_id = :m "
               f"AND revoked_by IS NULL")
        params: dict[str, Any] = {"u": upload_id, "h": fixmedins_code, "m": mdtrt_id}
        if feedetl_sn is not None:
            sql += " AND feedetl_sn = :sn"
            params["sn"] = feedetl_sn
        return (await self.session.execute(text(sql), params)).rowcount  # type: ignore[attr-defined, no-any-return]

    async def current_lines(self, fixmedins_code: str, mdtrt_id: str) -> list[DetailRow]:
        rows = await self.session.execute(text(
            f"SELECT * FROM {S}.fee_detail WHERE fixmedins_code = :h AND mdtrt_id = :m AND revoked_by IS NULL "
            f"ORDER BY detail_id"), {"h": fixmedins_code, "m": mdtrt_id})
        return [_row(r) for r in rows]

    # the stay ---------------------------------------------------------------------------------------------------
    async def list_money(self, fixmedins_code: str, mdtrt_id: str) -> ListMoney | None:
        """The stay's list as the sum check needs it: its fee categories (None for a HIS-form list without
        iteminfo) and the settlement record's total (None when no record is joined); None when no list names
        the stay yet."""
        return (await self.lists_money([(fixmedins_code, mdtrt_id)])).get((fixmedins_code, mdtrt_id))

    async def lists_money(self, stays: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ListMoney]:
        """``list_money`` of several stays (institution, mdtrt_id) in one statement; stays without a list left out."""
        if not stays:
            return {}
        rows = (await self.session.execute(text(
            f"SELECT k.h, k.m, l.items, l.total_fen, l.money_source "
            f"FROM unnest(CAST(:hs AS text[]), CAST(:ms AS text[])) AS k(h, m) CROSS JOIN LATERAL ("
            f"  SELECT r.body -> 'iteminfo' AS items, e.total_fen, e.money_source FROM {S}.case_event e "
            f"  JOIN {S}.list_revision r ON r.list_id = e.list_id AND r.revision = e.revision "
            f"  WHERE e.fixmedins_code = k.h AND e.mdtrt_id = k.m AND e.status = 'ACTIVE' "
            f"  ORDER BY e.event_id DESC LIMIT 1) l"),
            {"hs": [h for h, _ in stays], "ms": [m for _, m in stays]})).all()
        return {(r.h, r.m): (_categories(r.items), int(r.total_fen) if r.money_source == "SETTLEMENT_RECORD"
                             else None) for r in rows}

    async def save_stay(self, fixmedins_code: str, mdtrt_id: str, lines: int, total_fen: int,
                        findings: Sequence[Finding]) -> datetime:
        row = (await self.session.execute(text(
            f"INSERT INTO {S}.fee_stay (fixmedins_code, mdtrt_id, region, line_count, total_fen, findings) "
            f"VALUES (:h, :m, :region, :n, :t, CAST(:f AS jsonb)) ON CONFLICT (fixmedins_code, mdtrt_id) DO UPDATE "
            f"SET line_count = excluded.line_count, total_fen = excluded.total_fen, findings = excluded.findings, "
            f"update_time = now() RETURNING update_time"),
            {"h": fixmedins_code, "m": mdtrt_id, "region": region_of(fixmedins_code), "n": lines, "t": total_fen,
             "f": orjson.dumps([f.to_json() for f in findings]).decode()})).one()
        return row.update_time  # type: ignore[no-any-return]

    async def stay(self, fixmedins_code: str, mdtrt_id: str) -> StaySummary | None:
        row = (await self.session.execute(text(
            f"SELECT * FROM {S}.fee_stay WHERE fixmedins_code = :h AND mdtrt_id = :m"),
            {"h": fixmedins_code, "m": mdtrt_id})).first()
        return None if row is None else _summary(row)

    async def region_stays(self, region: str, periods: Sequence[str], after: tuple[str, str],
                           limit: int) -> list[tuple[StaySummary, list[DetailRow]]]:
        """The stays with details whose list is in the region and settlement months ("yyyy-MM"), by (institution,
        stay), after the cursor ``after``."""
        rows = (await self.session.execute(text(
            f"SELECT s.* FROM {S}.fee_stay s WHERE (s.fixmedins_code, s.mdtrt_id) > (:h, :m) AND EXISTS ("
            f"  SELECT 1 FROM {S}.case_event e WHERE e.fixmedins_code = s.fixmedins_code "
            f"  AND e.mdtrt_id = s.mdtrt_id AND e.region = :region "
            f"  AND e.period = ANY(CAST(:periods AS text[])))"
            f" ORDER BY s.fixmedins_code, s.mdtrt_id LIMIT :limit"),
            {"h": after[0], "m": after[1], "region": region, "periods": list(periods), "limit": limit})).all()
        if not rows:
            return []
        details = await self.session.execute(text(
            f"SELECT d.* FROM {S}.fee_detail d JOIN unnest(CAST(:hs AS text[]), CAST(:ms AS text[])) AS k(h, m) "
            f"ON d.fixmedins_code = k.h AND d.mdtrt_id = k.m WHERE d.revoked_by IS NULL "
            f"ORDER BY d.fixmedins_code, d.mdtrt_id, d.detail_id"),
            {"hs": [r.fixmedins_code for r in rows], "ms": [r.mdtrt_id for r in rows]})
        by_stay: dict[tuple[str, str], list[DetailRow]] = {}
        for d in details:
            by_stay.setdefault((d.fixmedins_code, d.mdtrt_id), []).append(_row(d))
        return [(_summary(r), by_stay.get((r.fixmedins_code, r.mdtrt_id), [])) for r in rows]


def _row(r: Any) -> DetailRow:
    line = FeeLine(r.feedetl_sn, r.med_list_codg, r.med_chrgitm_type, r.fee_time, int(r.cnt), int(r.pric),
                   int(r.amount_fen), r.mdtrt_id, r.init_feedetl_sn)
    return DetailRow(line, r.psn_no, r.med_type, r.medins_list_codg, r.bilg_dept_codg, r.bilg_dr_codg)


def _summary(r: Any) -> StaySummary:
    findings = [Finding.from_json(f) for f in r.findings]
    return StaySummary(r.fixmedins_code, r.mdtrt_id, r.line_count, int(r.total_fen), findings, r.update_time)


def _categories(items: Any) -> dict[str, int] | None:
    from libs.common.money import wire_fen

    if not isinstance(items, list) or not items:
        return None
    out: dict[str, int] = {}
    for item in items:
        fen = wire_fen(item.get("amt")) if isinstance(item, dict) else None
        category = str(item.get("med_chrgitm") or "").zfill(2) if isinstance(item, dict) else ""
        if fen is None or not category:
            return None
        out[category] = out.get(category, 0) + fen
    return out
