"""Flags: listing them (a hospital sees only its own), the review workflow, deductions and rule statistics."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from libs.common.audit import record
from libs.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    MedpayError,
    NotFound,
    PermissionDenied,
)

from ...adapters.review.repository import RuleCount, StoredFlag
from ...adapters.review.tables import audit
from ...domain.review.workflow import Event, Principal, Step, Verdict, WorkflowError, take_step
from .unit_of_work import ReviewUnitOfWork


def parse_flag_name(name: str) -> tuple[str, int]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "regions" or parts[2] != "flags" or not parts[3].isdigit():
        raise InvalidArgument.field("name", f"{name!r} is not a flag name regions/{{region}}/flags/{{id}}")
    return parts[1], int(parts[3])


def parse_region(parent: str) -> str:
    parts = parent.split("/")
    if len(parts) != 2 or parts[0] != "regions" or not (len(parts[1]) == 6 and parts[1].isdigit()):
        raise InvalidArgument.field("parent", f"{parent!r} is not a region regions/{{6-digit code}}")
    return parts[1]


class Flags:
    def __init__(self, new_uow: Callable[[], ReviewUnitOfWork]) -> None:
        self._new_uow = new_uow

    async def find(self, who: Principal, region: str, *, periods: Sequence[str], hospital: str, category: str,
                   rule_id: str, state: str, after: tuple[str, str, int] | None, limit: int) -> list[StoredFlag]:
        if not who.sees(hospital or who.institution):
            raise PermissionDenied("a hospital lists only its own flags", reason="PERMISSION_DENIED")
        async with self._new_uow() as uow:
            return await uow.review.flags(region, periods=periods, hospital=hospital or who.institution,
                                          category=category, rule_id=rule_id, state=state, after=after, limit=limit)

    async def get(self, who: Principal, name: str) -> tuple[StoredFlag, list[Event]]:
        region, flag_id = parse_flag_name(name)
        async with self._new_uow() as uow:
            found = await uow.review.flag(flag_id)
            if found is None or found.region != region or not who.sees(found.fixmedins_code):
                raise NotFound(f"no flag {name}", reason="FLAG_NOT_FOUND", metadata={"name": name})
            return found, await uow.review.events(flag_id)

    async def review(self, who: Principal, name: str, step: Step, *, verdict: Verdict | None, reason: str,
                     amount: int | None, request_id: str = "") -> tuple[StoredFlag, list[Event]]:
        """Take one workflow step; idempotent by ``request_id`` (a replay returns the flag and changes nothing)."""
        region, flag_id = parse_flag_name(name)
        digest = hashlib.sha256("\x1f".join((name, step.value, verdict.value if verdict else "", reason,
                                            str(amount), who.actor)).encode()).hexdigest()
        async with self._new_uow() as uow:
            if request_id:
                seen = await uow.review.event_by_request(request_id)
                if seen is not None:
                    if seen != (flag_id, digest):
                        raise AlreadyExists(f"request_id {request_id} was used for another step",
                                            reason="REQUEST_ID_REUSED", metadata={"request_id": request_id})
                    return await self.get(who, name)
            found = await uow.review.flag(flag_id, lock=True)
            if found is None or found.region != region or not who.sees(found.fixmedins_code):
                raise NotFound(f"no flag {name}", reason="FLAG_NOT_FOUND", metadata={"name": name})
            history = tuple(await uow.review.events(flag_id))
            try:
                event = take_step(state=found.state, history=history, flag_hospital=found.fixmedins_code,
                                  flag_amount=found.found_fen, step=step, verdict=verdict, reason=reason,
                                  amount=amount, who=who, now=datetime.now(UTC))
            except WorkflowError as refused:
                raise _error(refused) from None
            await uow.review.add_event(flag_id, event, request_id or None, digest)
            await record(uow.session, audit, f"flag.{step.value}", name, fixmedins_code=found.fixmedins_code,
                         region=found.region, request_id=request_id,
                         detail={"verdict": verdict.value if verdict else "", "reason": reason, "amount_fen": amount})
            await uow.commit()
        return await self.get(who, name)

    async def deductions(self, region: str, months: Sequence[str]) -> list[tuple[str, int, int]]:
        async with self._new_uow() as uow:
            return await uow.review.deductions(region, months)

    async def statistics(self, region: str, period: str | None) -> list[RuleCount]:
        async with self._new_uow() as uow:
            return await uow.review.rule_counts(region, period)


def _error(refused: WorkflowError) -> MedpayError:
    if refused.reason == "PERMISSION_DENIED":
        return PermissionDenied(refused.message, reason=refused.reason)
    if refused.reason == "INVALID_FIELD":
        return InvalidArgument(refused.message, reason=refused.reason)
    return FailedPrecondition(refused.message, reason=refused.reason)
