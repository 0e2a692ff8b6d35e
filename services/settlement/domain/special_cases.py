"""Special cases (特病单议): a hospital asks that one of its cases be paid by item, the bureau decides.

Why a workflow and not a list in the policy: the approvals are made case by case during the year, by someone who
must be named, and they count against FORMAT.md's cap (``special_cases.cap_share`` of the year's cases): an
approval that would exceed ``floor(cap_share x cases)`` is refused at once rather than failing the year-end run.
An approved case is settled as FORMAT says (``points = round_4(c / avg_all x scale)``, or paid by item under the
rate method): the run reads the approved list ids of its region and year.

A case is named by its settlement list (``setl_list_id``): one application per list. A rejected case may be
applied for again (new grounds); an applied or approved one may not. Every change of state is kept as a
:class:`Decision` (who, when, why), the audit trail of the approvals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from libs.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied

MAX_TEXT = 1000
"""Longest reason or note, in characters."""


class SpecialCaseState(StrEnum):
    APPLIED = "applied"
    """Applied for by the hospital, waiting for the bureau."""
    APPROVED = "approved"
    """Approved: settled as a special case by every later run of its year."""
    REJECTED = "rejected"
    """Rejected: settled like any other case; the hospital may apply again."""


@dataclass(frozen=True)
class CaseRef:
    """The case applied for, as the service found it: its list, hospital and settlement year."""

    region: str
    setl_list_id: str
    fixmedins_code: str
    year: int


@dataclass(frozen=True)
class SpecialCase:
    region: str
    setl_list_id: str
    fixmedins_code: str
    year: int
    """The settlement year of the case (its discharge year)."""
    reason: str
    """The hospital's grounds."""
    state: SpecialCaseState
    decided_by: str = ""
    """Who approved or rejected it (the caller's principal); empty while applied."""
    decision_note: str = ""

    @property
    def name(self) -> str:
        return special_case_name(self.region, self.setl_list_id)


@dataclass(frozen=True)
class Decision:
    """One change of state of a special case: the audit trail of who applied, approved or rejected it."""

    setl_list_id: str
    state: SpecialCaseState
    actor: str
    note: str


def special_case_name(region: str, setl_list_id: str) -> str:
    return f"regions/{region}/specialCases/{setl_list_id}"


def _text(value: str, field: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidArgument.field(field, "is required")
    if len(text) > MAX_TEXT:
        raise InvalidArgument.field(field, f"at most {MAX_TEXT} characters")
    return text


def apply_for(ref: CaseRef, reason: str, actor: str, existing: SpecialCase | None) -> tuple[SpecialCase, Decision]:
    """The hospital's application for its case (``ref.fixmedins_code`` is the case's hospital, already checked to
    be the caller's own); ``existing`` is the case's earlier application, if any."""
    grounds = _text(reason, "special_case.reason", required=True)
    if existing is not None:
        if existing.fixmedins_code != ref.fixmedins_code:
            raise PermissionDenied(f"list {ref.setl_list_id} is not a case of {ref.fixmedins_code}",
                                   reason="TENANT_MISMATCH")
        if existing.state is not SpecialCaseState.REJECTED:
            raise AlreadyExists(f"{existing.name} is already {existing.state.value}", reason="SPECIAL_CASE_EXISTS",
                                metadata={"state": existing.state.value})
    case = SpecialCase(ref.region, ref.setl_list_id, ref.fixmedins_code, ref.year, grounds, SpecialCaseState.APPLIED)
    return case, Decision(ref.setl_list_id, SpecialCaseState.APPLIED, actor, grounds)


def special_case_cap(cap_share: Decimal, cases: int) -> int:
    """FORMAT's cap: ``floor(cap_share x number of cases)`` distinct approved cases."""
    return math.floor(cap_share * cases)


def approve(case: SpecialCase, actor: str, note: str, *, approved: int, cap: int) -> tuple[SpecialCase, Decision]:
    """The bureau's approval; ``approved`` cases of the region and year are approved already, ``cap`` is
    :func:`special_case_cap` of the year's cases. Reaching the cap exactly is allowed, passing it is not."""
    _pending(case, "approve")
    text = _text(note, "note", required=False)
    if approved + 1 > cap:
        raise FailedPrecondition(f"approving {case.name} would exceed the cap of {cap} special cases of "
                                 f"{case.region} in {case.year} ({approved} approved)",
                                 reason="SPECIAL_CASE_CAP_REACHED",
                                 metadata={"cap": str(cap), "approved": str(approved)})
    decided = replace(case, state=SpecialCaseState.APPROVED, decided_by=actor, decision_note=text)
    return decided, Decision(case.setl_list_id, SpecialCaseState.APPROVED, actor, text)


def reject(case: SpecialCase, actor: str, note: str) -> tuple[SpecialCase, Decision]:
    """The bureau's rejection; the note (why) is required: the hospital reads it."""
    _pending(case, "reject")
    text = _text(note, "note", required=True)
    decided = replace(case, state=SpecialCaseState.REJECTED, decided_by=actor, decision_note=text)
    return decided, Decision(case.setl_list_id, SpecialCaseState.REJECTED, actor, text)


def _pending(case: SpecialCase, action: str) -> None:
    if case.state is not SpecialCaseState.APPLIED:
        raise FailedPrecondition(f"cannot {action} {case.name}: it is {case.state.value}",
                                 reason="SPECIAL_CASE_NOT_PENDING", metadata={"state": case.state.value})
