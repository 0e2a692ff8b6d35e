"""Use cases of policy versions: create (idempotent by request id), get, list, activate."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from libs.common.audit import record
from libs.common.errors import AlreadyExists, InvalidArgument, NotFound
from libs.common.paging import decode_token, encode_token, page_size

from ..adapters.tables import audit
from ..domain.errors import ParameterError
from ..domain.policies import GroupScheme, PolicyVersion, draft_policy, parameters_digest
from .names import parse_policy_name
from .unit_of_work import SettlementUnitOfWork

UowFactory = Callable[[], SettlementUnitOfWork]
PAGE = (100, 1000)
MAX_APPROVER = 200


@dataclass(frozen=True)
class CreatePolicy:
    region: str
    year: int
    parameters_json: str
    group_scheme: GroupScheme
    effective_start: date | None
    effective_end: date | None
    description: str
    request_id: str = ""
    hospital_levels: dict[str, int] = field(default_factory=dict)

    def digest(self) -> str:
        return parameters_digest({"year": self.year, "parameters_json": self.parameters_json,
                                  "group_scheme": self.group_scheme.value,
                                  "start": str(self.effective_start or ""), "end": str(self.effective_end or ""),
                                  "description": self.description, "hospital_levels": self.hospital_levels})


def parse_parameters(text: str) -> Any:
    """``parameters_json`` as FORMAT reads it: JSON numbers as decimals from their text."""
    if not text.strip():
        raise InvalidArgument.field("policy.parameters_json", "is required: FORMAT.md's params.json")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as bad:
        raise ParameterError("params", f"not JSON: {bad.msg} (line {bad.lineno}, column {bad.colno})") from None


@dataclass(frozen=True)
class PolicyPage:
    policies: list[PolicyVersion]
    next_page_token: str


class Policies:
    def __init__(self, uows: UowFactory) -> None:
        self._uows = uows

    async def create(self, command: CreatePolicy) -> PolicyVersion:
        if not 2000 <= command.year <= 2100:
            raise InvalidArgument.field("policy.year", f"{command.year} is not a settlement year (2000-2100)")
        draft = draft_policy(command.region, command.year, parse_parameters(command.parameters_json),
                             group_scheme=command.group_scheme, start=command.effective_start,
                             end=command.effective_end, description=command.description,
                             hospital_levels=command.hospital_levels)
        async with self._uows() as uow:
            await uow.policies.lock_region(command.region, 0)
            if command.request_id:
                earlier = await uow.policies.by_request(command.region, command.request_id)
                if earlier is not None:
                    version, digest = earlier
                    if digest != command.digest():
                        raise AlreadyExists(f"request_id {command.request_id} was used with another policy",
                                            reason="REQUEST_ID_REUSED", metadata={"request_id": command.request_id})
                    return version
            created = await uow.policies.add(draft, command.request_id, command.digest())
            await uow.commit()
        return created

    async def get(self, name: str, field: str = "name") -> PolicyVersion:
        region, year, number = parse_policy_name(name, field)
        async with self._uows() as uow:
            found = await uow.policies.get(region, year, number)
        if found is None:
            raise NotFound(f"no policy {name}", reason="POLICY_NOT_FOUND", metadata={"name": name})
        return found

    async def resolve(self, region: str, year: int, name: str, field: str) -> PolicyVersion:
        """The version named (of this region and year), or the year's active one."""
        if name:
            found = await self.get(name, field)
            if (found.region, found.year) != (region, year):
                raise InvalidArgument.field(field, f"{name} is not a policy of region {region} for {year}")
            return found
        async with self._uows() as uow:
            active = await uow.policies.active(region, year)
        if active is None:
            raise NotFound(f"region {region} has no active policy for {year}: activate one or name a version",
                           reason="NO_ACTIVE_POLICY", metadata={"region": region, "year": str(year)})
        return active

    async def list(self, region: str, year: int, size: int, token: str) -> PolicyPage:
        if year < 0:
            raise InvalidArgument.field("year", "must not be negative")
        limit = page_size(size, *PAGE)
        cursor = decode_token(token)
        after = None
        if cursor:
            try:
                y, v = cursor.split("/")
                after = (int(y), int(v))
            except ValueError:
                raise InvalidArgument.field("page_token", "not a token returned by this service",
                                            "INVALID_PAGE_TOKEN") from None
        async with self._uows() as uow:
            found = await uow.policies.page(region, year, after, limit + 1)
        page, more = found[:limit], len(found) > limit
        return PolicyPage(page, encode_token(f"{page[-1].year}/{page[-1].version}") if more else "")

    async def activate(self, name: str, approved_by: str) -> PolicyVersion:
        approver = approved_by.strip()
        if not approver:
            raise InvalidArgument.field("approved_by", "is required: who approves the policy")
        if len(approver) > MAX_APPROVER:
            raise InvalidArgument.field("approved_by", f"longer than {MAX_APPROVER} characters")
        region, year, number = parse_policy_name(name, "name")
        async with self._uows() as uow:
            await uow.policies.lock_region(region, 0)
            found = await uow.policies.get(region, year, number)
            if found is None:
                raise NotFound(f"no policy {name}", reason="POLICY_NOT_FOUND", metadata={"name": name})
            if found.state.value == "ACTIVE":
                return found
            activated = await uow.policies.activate(found, approver)
            await record(uow.session, audit, "policy.activate", name, region=region,
                         detail={"approved_by": approver})
            await uow.commit()
        return activated
