"""Fee details (2301 upload, 2302 revocation), idempotent like 4101A, checked against the stay's list.

An upload is read and its item codes validated first; then, in one transaction: the idempotency key is claimed,
the stay is locked, its current serial numbers are checked, the lines stored, the stay's findings recomputed from
all its current lines (and its list, when the list is there) and the response stored with the key. A replay of
the key gets the stored response; a crash before commit leaves nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.errors import Aborted, AlreadyExists, FieldViolation, InvalidArgument, NotFound
from libs.national.fees import FeeLine

from ..adapters.clients import CodingClient
from ..adapters.fee_details import FeeDetailRepository, StaySummary
from ..domain.envelope import error_message
from ..domain.fee_details import (
    REVOKE_ALL,
    DetailRow,
    ListMoney,
    already_uploaded,
    category_sums,
    item_systems,
    line_findings,
    read_upload,
    sum_findings,
    with_sum_check,
)
from ..domain.model import Finding
from .queries import check_period, check_region
from .unit_of_work import CollectionUnitOfWork

STREAM_CHUNK = 200


class FeeDetailsRefused(InvalidArgument):
    """An upload refused as a whole (INVALID_FEE_DETAILS), with the ERROR findings that refuse it."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__(error_message(list(findings)), reason="INVALID_FEE_DETAILS",
                         metadata={"findings": ",".join(sorted({f.code for f in findings}))},
                         violations=tuple(FieldViolation(f.field, f"{f.code}: {f.message_en}") for f in findings))
        self.findings = tuple(findings)


@dataclass(frozen=True)
class FeeCommand:
    """One 2301 upload (``body`` its ``input``) or 2302 revocation. ``key`` is the idempotency key or None."""

    key: str | None
    digest: str
    fixmedins_code: str
    body: Any


@dataclass(frozen=True)
class StayDetails:
    fixmedins_code: str
    mdtrt_id: str
    rows: list[DetailRow]
    findings: list[Finding]
    update_time: datetime | None


class FeeDetails:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], coding: CodingClient) -> None:
        self._new_uow = new_uow
        self._coding = coding

    async def upload(self, cmd: FeeCommand) -> tuple[dict[str, Any], bool]:
        """(the outcome as stored, replayed?). ``InvalidArgument`` (INVALID_FEE_DETAILS) refuses the upload."""
        if cmd.key is not None:
            replay = await self._replay(cmd)
            if replay is not None:
                return replay, True
        upload, refusals = read_upload(cmd.fixmedins_code, cmd.body)
        if upload is None:
            raise refused(refusals)
        await self._coding.verdicts(item_systems(upload.lines))  # before the transaction: a remote call
        async with self._new_uow() as uow:
            repo = FeeDetailRepository(uow.session)
            if cmd.key is not None and not await repo.claim(cmd.key, cmd.digest):
                await uow.rollback()
                return await self._replayed(cmd), True
            await repo.lock_stay(upload.fixmedins_code, upload.mdtrt_id)
            taken = already_uploaded(upload, await repo.current_serials(upload.fixmedins_code, upload.mdtrt_id))
            if taken:
                raise refused(taken)
            upload_id = await repo.new_upload("2301", upload.fixmedins_code, upload.mdtrt_id, cmd.key,
                                              len(upload.rows))
            await repo.insert_lines(upload_id, upload.fixmedins_code, upload.rows)
            count, total, findings = await self._restate(repo, upload.fixmedins_code, upload.mdtrt_id)
            outcome = {"mdtrt_id": upload.mdtrt_id, "lines": [_line_dict(r.line) for r in upload.rows],
                       "findings": [f.to_json() for f in findings], "stay_line_count": count,
                       "stay_total_fen": total}
            if cmd.key is not None:
                await repo.remember(cmd.key, outcome)
            await uow.commit()
        return outcome, False

    async def revoke(self, cmd: FeeCommand) -> tuple[dict[str, Any], bool]:
        """A 2302: ``body`` is ``{"data": {"mdtrt_id", "feedetl_sn", "psn_no"}}`` (or the ``data`` object)."""
        data = cmd.body.get("data", cmd.body) if isinstance(cmd.body, dict) else None
        mdtrt = str(data.get("mdtrt_id") or "").strip() if isinstance(data, dict) else ""
        if not mdtrt:
            raise InvalidArgument.field("mdtrt_id", "is required")
        sn = str(data.get("feedetl_sn") or "").strip() if isinstance(data, dict) else ""
        if cmd.key is not None:
            replay = await self._replay(cmd)
            if replay is not None:
                return replay, True
        async with self._new_uow() as uow:
            repo = FeeDetailRepository(uow.session)
            if cmd.key is not None and not await repo.claim(cmd.key, cmd.digest):
                await uow.rollback()
                return await self._replayed(cmd), True
            await repo.lock_stay(cmd.fixmedins_code, mdtrt)
            upload_id = await repo.new_upload("2302", cmd.fixmedins_code, mdtrt, cmd.key, 0)
            revoked = await repo.revoke(upload_id, cmd.fixmedins_code, mdtrt, None if sn in ("", REVOKE_ALL) else sn)
            if revoked == 0:
                what = "current fee details" if sn in ("", REVOKE_ALL) else f"current line with feedetl_sn {sn}"
                raise NotFound(f"{cmd.fixmedins_code} mdtrt_id {mdtrt} has no {what}", reason="STAY_NOT_FOUND",
                               metadata={"mdtrt_id": mdtrt})
            count, _, _ = await self._restate(repo, cmd.fixmedins_code, mdtrt)
            outcome = {"mdtrt_id": mdtrt, "revoked_count": revoked, "stay_line_count": count}
            if cmd.key is not None:
                await repo.remember(cmd.key, outcome)
            await uow.commit()
        return outcome, False

    async def _restate(self, repo: FeeDetailRepository, hospital: str, mdtrt: str) -> tuple[int, int, list[Finding]]:
        """Recompute the stay's summary from its current lines: line warnings and the sum check against the list
        (the codes' verdicts are cached by the client: validated before the transaction)."""
        rows = await repo.current_lines(hospital, mdtrt)
        lines = [row.line for row in rows]
        by_category = category_sums(lines)
        money = await repo.list_money(hospital, mdtrt)
        findings = line_findings(lines, await self._coding.verdicts(item_systems(lines)))
        findings += sum_findings(by_category, *money) if money is not None else []
        total = sum(by_category.values())
        await repo.save_stay(hospital, mdtrt, len(rows), total, findings)
        return len(rows), total, findings

    async def _replay(self, cmd: FeeCommand) -> dict[str, Any] | None:
        async with self._new_uow() as uow:
            stored = await FeeDetailRepository(uow.session).stored_response(cmd.key or "")
        if stored is None:
            return None
        return _same(cmd, *stored)

    async def _replayed(self, cmd: FeeCommand) -> dict[str, Any]:
        replay = await self._replay(cmd)
        if replay is None:  # the holder has not committed its response yet, or rolled back
            raise Aborted(f"{cmd.key} is being processed by another request; retry",
                                  reason="REQUEST_IN_FLIGHT")
        return replay

    async def stay(self, fixmedins_code: str, mdtrt_id: str) -> StayDetails:
        if not fixmedins_code or not mdtrt_id:
            raise InvalidArgument.field("mdtrt_id" if fixmedins_code else "fixmedins_code", "is required")
        async with self._new_uow() as uow:
            repo = FeeDetailRepository(uow.session)
            summary = await repo.stay(fixmedins_code, mdtrt_id)
            if summary is None:
                raise NotFound(f"no fee details of {fixmedins_code} mdtrt_id {mdtrt_id}", reason="STAY_NOT_FOUND",
                               metadata={"mdtrt_id": mdtrt_id})
            rows = await repo.current_lines(fixmedins_code, mdtrt_id)
            money = await repo.list_money(fixmedins_code, mdtrt_id)
        return _details(summary, rows, money)

    async def region(self, region: str, months: Sequence[str]) -> AsyncIterator[list[StayDetails]]:
        """Chunks of stays with their current details, for the lists of a region's settlement months."""
        check_region(region)
        if not months:
            raise InvalidArgument.field("settlement_periods", "at least one period is required")
        for i, month in enumerate(months):
            check_period(month, f"settlement_periods[{i}]")
        after = ("", "")
        while True:
            async with self._new_uow() as uow:
                repo = FeeDetailRepository(uow.session)
                chunk = await repo.region_stays(region, months, after, STREAM_CHUNK)
                money = await repo.lists_money([(s.fixmedins_code, s.mdtrt_id) for s, _ in chunk])
            if not chunk:
                return
            yield [_details(summary, rows, money.get((summary.fixmedins_code, summary.mdtrt_id)))
                   for summary, rows in chunk]
            after = (chunk[-1][0].fixmedins_code, chunk[-1][0].mdtrt_id)


def refused(findings: Sequence[Finding]) -> FeeDetailsRefused:
    return FeeDetailsRefused(findings)


def _same(cmd: FeeCommand, digest: str, response: Any) -> dict[str, Any]:
    if digest != cmd.digest:
        raise AlreadyExists(f"{cmd.key} was used before for different fee details: a replay must carry the same "
                            "content", reason="REQUEST_ID_REUSED", metadata={"key": cmd.key or ""})
    return response  # type: ignore[no-any-return]


def _details(summary: StaySummary, rows: list[DetailRow], money: ListMoney | None) -> StayDetails:
    """The stay as read now: its findings with the sum check against its list as the list is now."""
    findings = with_sum_check(summary.findings, (r.line for r in rows), money)
    return StayDetails(summary.fixmedins_code, summary.mdtrt_id, rows, findings, summary.update_time)


def _line_dict(line: FeeLine) -> dict[str, Any]:
    return {"sn": line.sn, "code": line.code, "category": line.category, "time": line.time, "cnt": line.cnt,
            "pric": line.pric, "amount": line.amount, "refers_to": line.refers_to}

