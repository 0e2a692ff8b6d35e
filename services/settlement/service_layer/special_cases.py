"""Use cases of special cases (特病单议): a hospital applies, the bureau approves within the cap or rejects.

Each call is one transaction; decisions of one region and year are serialised so that the cap holds under
concurrent approvals. Every call may carry a request_id (AIP-155): a replay of the same request returns the case
as it is and changes nothing; the same id with another request is REQUEST_ID_REUSED.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from libs.common.audit import record
from libs.common.db.uow import UnitOfWork
from libs.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from libs.common.paging import decode_token, encode_token, page_size

from ..adapters.policy_repository import PolicyRepository
from ..adapters.special_case_repository import SpecialCaseRepository, StoredSpecialCase
from ..adapters.tables import audit
from ..domain.special_cases import Decision, SpecialCase, SpecialCaseState, apply_for, approve, reject, special_case_cap

CASE_NAME = re.compile(r"regions/(\d{6})/specialCases/([^/]{1,64})")
LIST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
DEFAULT_PAGE, MAX_PAGE = 100, 1000


def parse_case_name(name: str, field: str = "name") -> tuple[str, str]:
    match = CASE_NAME.fullmatch(name)
    if match is None or not LIST_ID.fullmatch(match.group(2)):
        raise InvalidArgument.field(field, "must be regions/{region}/specialCases/{setl_list_id}")
    return match.group(1), match.group(2)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def _refuse_cleared(repo: SpecialCaseRepository, region: str, year: int) -> None:
    """After the year's clearing no run settles its cases again: an application or approval then would be
    recorded and never paid. Checked under the year's lock, which the clearing takes too before it reads the
    approved cases, so an approval is either in the clearing or refused."""
    cleared = await repo.clearing_run(region, year)
    if cleared is not None:
        raise FailedPrecondition(f"{year} of region {region} was cleared by {cleared}: its special cases are "
                                 "settled", reason="YEAR_ALREADY_CLEARED", metadata={"settlement_run": cleared})


@dataclass(frozen=True)
class SpecialCasePage:
    cases: list[StoredSpecialCase]
    next_page_token: str


class SpecialCases:
    def __init__(self, uows: Callable[[], UnitOfWork]) -> None:
        self._uows = uows

    async def apply(self, region: str, setl_list_id: str, reason: str, *, request_id: str, actor: str,
                    hospital: str | None) -> StoredSpecialCase:
        """``hospital``: the caller's institution when a hospital calls (it may apply for its own cases only)."""
        if not LIST_ID.fullmatch(setl_list_id):
            raise InvalidArgument.field("special_case.setl_list_id", "is required: a settlement list id")
        digest = _digest("apply", setl_list_id, reason.strip())
        async with self._uows() as uow:
            repo = SpecialCaseRepository(uow.session)
            replay = await self._replay(repo, region, setl_list_id, request_id, digest)
            if replay is not None:
                return replay
            ref = await repo.settled_case(region, setl_list_id)
            if ref is None:
                raise NotFound(f"no run of {region} settled list {setl_list_id}", reason="CASE_NOT_FOUND")
            if hospital is not None and ref.fixmedins_code != hospital:
                raise PermissionDenied(f"list {setl_list_id} is not a case of {hospital}", reason="TENANT_MISMATCH")
            await repo.lock_year(region, ref.year)
            await _refuse_cleared(repo, region, ref.year)
            existing = await repo.get(region, setl_list_id)
            case, decision = apply_for(ref, reason, actor, existing.case if existing else None)
            await repo.save(case, decision, request_id, digest)
            stored = await repo.get(region, setl_list_id)
            await uow.commit()
        assert stored is not None
        return stored

    async def approve(self, name: str, note: str, *, request_id: str, actor: str) -> StoredSpecialCase:
        region, setl_list_id = parse_case_name(name)
        digest = _digest("approve", setl_list_id, note.strip())
        async with self._uows() as uow:
            repo = SpecialCaseRepository(uow.session)
            replay = await self._replay(repo, region, setl_list_id, request_id, digest)
            if replay is not None:
                return replay
            case = await self._locked_case(repo, region, setl_list_id)
            await _refuse_cleared(repo, region, case.year)
            policy = await PolicyRepository(uow.session).active(region, case.year)
            if policy is None:
                raise FailedPrecondition(f"{region} has no active policy for {case.year}: the cap is the policy's",
                                         reason="POLICY_NOT_FOUND")
            cap = special_case_cap(Decimal(policy.policy().special_cap_share), await repo.year_cases(region, case.year))
            decided, decision = approve(case, actor, note, approved=await repo.count_approved(region, case.year),
                                        cap=cap)
            return await self._store_decision(uow, repo, decided, decision, request_id=request_id, digest=digest,
                                              action="special_case.approve",
                                              detail={"note": decision.note, "cap": cap})

    async def reject(self, name: str, note: str, *, request_id: str, actor: str) -> StoredSpecialCase:
        region, setl_list_id = parse_case_name(name)
        digest = _digest("reject", setl_list_id, note.strip())
        async with self._uows() as uow:
            repo = SpecialCaseRepository(uow.session)
            replay = await self._replay(repo, region, setl_list_id, request_id, digest)
            if replay is not None:
                return replay
            decided, decision = reject(await self._locked_case(repo, region, setl_list_id), actor, note)
            return await self._store_decision(uow, repo, decided, decision, request_id=request_id, digest=digest,
                                              action="special_case.reject", detail={"note": decision.note})

    async def _locked_case(self, repo: SpecialCaseRepository, region: str, setl_list_id: str) -> SpecialCase:
        """The case as of its region and year's lock: decisions of one year are serialised, so a decision reads
        the case (and the cap's count) only after it holds the lock."""
        case = await self._case(repo, region, setl_list_id)
        await repo.lock_year(region, case.year)
        return await self._case(repo, region, setl_list_id)

    async def _store_decision(self, uow: UnitOfWork, repo: SpecialCaseRepository, decided: SpecialCase,
                              decision: Decision, *, request_id: str, digest: str, action: str,
                              detail: dict[str, object]) -> StoredSpecialCase:
        """Saves a bureau's decision with its audit record (``action``) and commits."""
        await repo.save(decided, decision, request_id, digest)
        await record(uow.session, audit, action, decided.name,
                     fixmedins_code=decided.fixmedins_code, region=decided.region, detail=detail)
        stored = await repo.get(decided.region, decided.setl_list_id)
        await uow.commit()
        assert stored is not None
        return stored

    async def get(self, name: str) -> StoredSpecialCase:
        region, setl_list_id = parse_case_name(name)
        async with self._uows() as uow:
            stored = await SpecialCaseRepository(uow.session).get(region, setl_list_id)
        if stored is None:
            raise NotFound(f"no special case {name}", reason="SPECIAL_CASE_NOT_FOUND")
        return stored

    async def list(self, region: str, *, fixmedins_code: str, year: int, state: SpecialCaseState | None,
                   size: int, token: str) -> SpecialCasePage:
        limit = page_size(size, DEFAULT_PAGE, MAX_PAGE)
        after = decode_token(token)
        async with self._uows() as uow:
            rows = await SpecialCaseRepository(uow.session).page(region, fixmedins_code=fixmedins_code, year=year,
                                                                 state=state, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return SpecialCasePage(rows, encode_token(rows[-1].case.setl_list_id) if more else "")

    @staticmethod
    async def _case(repo: SpecialCaseRepository, region: str, setl_list_id: str) -> SpecialCase:
        stored = await repo.get(region, setl_list_id)
        if stored is None:
            raise NotFound(f"no special case regions/{region}/specialCases/{setl_list_id}",
                           reason="SPECIAL_CASE_NOT_FOUND")
        return stored.case

    @staticmethod
    async def _replay(repo: SpecialCaseRepository, region: str, setl_list_id: str, request_id: str,
                      digest: str) -> StoredSpecialCase | None:
        if not request_id:
            return None
        used = await repo.by_request(region, request_id)
        if used is None:
            return None
        if used != (setl_list_id, digest):
            raise AlreadyExists(f"request_id {request_id} was used for another request", reason="REQUEST_ID_REUSED")
        return await repo.get(region, setl_list_id)
