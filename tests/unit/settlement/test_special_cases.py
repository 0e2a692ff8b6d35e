"""The special-case workflow (特病单议): apply, approve within FORMAT's cap, reject with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from services.settlement.domain.special_cases import (
    CaseRef,
    SpecialCaseState,
    apply_for,
    approve,
    reject,
    special_case_cap,
)

H1, H2 = "H33070300001", "H33070300002"


def test_an_application_is_named_by_its_list_and_keeps_the_grounds() -> None:
    case, decision = apply_for(CaseRef("330700", "L1", H1, 2026), " rare disease ", f"hospital:{H1}", None)
    assert case.name == "regions/330700/specialCases/L1"
    assert case.state is SpecialCaseState.APPLIED and case.reason == "rare disease" and case.year == 2026
    assert (decision.state, decision.actor, decision.note) == (SpecialCaseState.APPLIED, f"hospital:{H1}",
                                                               "rare disease")


def test_an_application_needs_grounds_of_bounded_length() -> None:
    with pytest.raises(InvalidArgument) as missing:
        apply_for(CaseRef("330700", "L1", H1, 2026), "   ", "h", None)
    assert missing.value.metadata["field"] == "special_case.reason"
    with pytest.raises(InvalidArgument, match="at most 1000"):
        apply_for(CaseRef("330700", "L1", H1, 2026), "x" * 1001, "h", None)


def test_the_cap_is_the_floor_of_the_share_of_cases() -> None:
    assert special_case_cap(Decimal("0.05"), 100) == 5
    assert special_case_cap(Decimal("0.05"), 99) == 4
    assert special_case_cap(Decimal("0.005"), 199) == 0
    assert special_case_cap(Decimal("0"), 10**6) == 0


def test_approval_reaching_the_cap_exactly_is_allowed_passing_it_is_not() -> None:
    case, _ = apply_for(CaseRef("330700", "L1", H1, 2026), "grounds", "h", None)
    approved_case, decision = approve(case, "prefecture:330700", "agreed", approved=4, cap=5)
    assert approved_case.state is SpecialCaseState.APPROVED and approved_case.decided_by == "prefecture:330700"
    assert decision.state is SpecialCaseState.APPROVED and decision.note == "agreed"
    with pytest.raises(FailedPrecondition) as over:
        approve(case, "prefecture:330700", "", approved=5, cap=5)
    assert over.value.reason == "SPECIAL_CASE_CAP_REACHED" and over.value.metadata == {"cap": "5", "approved": "5"}


@given(st.integers(0, 50), st.integers(0, 50))
def test_approval_succeeds_exactly_while_under_the_cap(approved: int, cap: int) -> None:
    case, _ = apply_for(CaseRef("330700", "L1", H1, 2026), "grounds", "h", None)
    if approved < cap:
        assert approve(case, "p", "", approved=approved, cap=cap)[0].state is SpecialCaseState.APPROVED
    else:
        with pytest.raises(FailedPrecondition):
            approve(case, "p", "", approved=approved, cap=cap)


def test_rejection_needs_a_note_and_only_pending_cases_are_decided() -> None:
    case, _ = apply_for(CaseRef("330700", "L1", H1, 2026), "grounds", "h", None)
    with pytest.raises(InvalidArgument) as no_note:
        reject(case, "p", " ")
    assert no_note.value.metadata["field"] == "note"
    rejected, decision = reject(case, "prefecture:330700", "ordinary stay")
    assert rejected.state is SpecialCaseState.REJECTED and decision.note == "ordinary stay"
    for decide in (lambda c: approve(c, "p", "", approved=0, cap=9), lambda c: reject(c, "p", "no")):
        with pytest.raises(FailedPrecondition) as decided:
            decide(rejected)
        assert decided.value.reason == "SPECIAL_CASE_NOT_PENDING"


def test_a_rejected_case_may_be_applied_for_again_an_open_one_may_not() -> None:
    case, _ = apply_for(CaseRef("330700", "L1", H1, 2026), "grounds", "h", None)
    with pytest.raises(AlreadyExists) as twice:
        apply_for(CaseRef("330700", "L1", H1, 2026), "again", "h", case)
    assert twice.value.reason == "SPECIAL_CASE_EXISTS"
    approved_case, _ = approve(case, "p", "", approved=0, cap=1)
    with pytest.raises(AlreadyExists):
        apply_for(CaseRef("330700", "L1", H1, 2026), "again", "h", approved_case)
    rejected, _ = reject(case, "p", "no")
    again, _ = apply_for(CaseRef("330700", "L1", H1, 2026), "new grounds", "h", rejected)
    assert again.state is SpecialCaseState.APPLIED and again.reason == "new grounds" and not again.decided_by
    with pytest.raises(PermissionDenied):
        apply_for(CaseRef("330700", "L1", H2, 2026), "mine", "h", rejected)
