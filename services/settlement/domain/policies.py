"""Policy versions: a region's parameter set for one settlement year, with its lifecycle (pure values).

A version is created as a draft from FORMAT's ``params.json`` (validated by :func:`.policy.policy_from_json`, which
names the parameter at fault) and stored in canonical form with its digest; activating one supersedes the version
that was active for the same region and year. Stored versions never change except their state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from libs.common.errors import InvalidArgument

from .errors import ParameterError
from .policy import Method, Policy, policy_from_json, policy_to_json

MAX_DESCRIPTION = 1000


class PolicyState(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    SUPERSEDED = "SUPERSEDED"


class GroupScheme(StrEnum):
    """Which of a case's groups a policy pays by: its CHS-DRG group or its DIP group."""

    DRG = "DRG"
    DIP = "DIP"


@dataclass(frozen=True)
class PolicyDraft:
    """What a client asks to store: validated, canonical parameters and the version's attributes."""

    region: str
    year: int
    parameters: dict[str, Any]
    """Canonical (:func:`.policy.policy_to_json`)."""
    group_scheme: GroupScheme
    effective_start: date
    effective_end: date
    description: str
    hospital_levels: dict[str, int] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return policy_digest(self.parameters, self.hospital_levels)


@dataclass(frozen=True)
class PolicyVersion:
    region: str
    year: int
    version: int
    parameters: dict[str, Any]
    parameters_digest: str
    group_scheme: GroupScheme
    effective_start: date
    effective_end: date
    description: str
    state: PolicyState
    approved_by: str
    created_at: datetime
    activated_at: datetime | None
    hospital_levels: dict[str, int] = field(default_factory=dict)
    """Levels of institutions the case feed gives none (its own level wins)."""

    @property
    def policy_id(self) -> str:
        return policy_id(self.year, self.version)

    @property
    def name(self) -> str:
        return f"regions/{self.region}/policies/{self.policy_id}"

    def policy(self) -> Policy:
        """The parameters as the calculation's :class:`Policy` (they were validated when stored)."""
        return policy_from_json(self.parameters)


def policy_id(year: int, version: int) -> str:
    return f"{year}-v{version}"


def parameters_digest(parameters: dict[str, Any]) -> str:
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def policy_digest(parameters: dict[str, Any], hospital_levels: dict[str, int]) -> str:
    """What a version pays by: its parameters, and its level table when it has one."""
    if not hospital_levels:
        return parameters_digest(parameters)
    return parameters_digest({"parameters": parameters, "hospital_levels": hospital_levels})


MAX_LEVELS = 10_000
INSTITUTION = re.compile(r"H[0-9]{11}")


def check_levels(levels: dict[str, int]) -> dict[str, int]:
    if len(levels) > MAX_LEVELS:
        raise InvalidArgument.field("policy.hospital_levels", f"{len(levels)} entries, at most {MAX_LEVELS}")
    for code, level in levels.items():
        if not INSTITUTION.fullmatch(code):
            raise InvalidArgument.field(f"policy.hospital_levels[{code}]", "not an institution code (H + 11 digits)")
        if level not in (1, 2, 3):
            raise InvalidArgument.field(f"policy.hospital_levels[{code}]", f"level {level} is not 1, 2 or 3")
    return dict(sorted(levels.items()))


def draft_policy(region: str, year: int, raw: Any, *, group_scheme: GroupScheme, start: date | None = None,
                 end: date | None = None, description: str = "",
                 hospital_levels: dict[str, int] | None = None) -> PolicyDraft:
    """Validate a new version; every problem with the parameters is a :class:`ParameterError` naming the key."""
    policy = policy_from_json(raw)
    if policy.approved_special_cases:
        raise ParameterError("special_cases.approved", "must be empty in a stored policy: approved special cases "
                             "come from the special-case workflow (ApproveSpecialCase)")
    if group_scheme is GroupScheme.DIP and policy.method is not Method.POINTS:
        raise ParameterError("method", "a DIP policy settles by the point method (\"points\")")
    if policy.method is Method.POINTS and policy.budget is None:  # policy_from_json checks it; restated for mypy
        raise ParameterError("budget", "required for the point method")
    first, last = date(year, 1, 1), date(year, 12, 31)
    start, end = start or first, end or last
    if not first <= start <= last:
        raise InvalidArgument.field("policy.effective_dates.start_date", f"{start} is not in {year}")
    if not first <= end <= last:
        raise InvalidArgument.field("policy.effective_dates.end_date", f"{end} is not in {year}")
    if end < start:
        raise InvalidArgument.field("policy.effective_dates", f"ends ({end}) before it starts ({start})")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument.field("policy.description", f"longer than {MAX_DESCRIPTION} characters")
    return PolicyDraft(region, year, policy_to_json(policy), group_scheme, start, end, description,
                       check_levels(hospital_levels or {}))
