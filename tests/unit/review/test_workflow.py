"""The flag workflow (first review -> re-review -> appeal -> confirmed or dismissed) and the rule monitoring
figures, as pure functions: every transition, who may take it, and every refusal with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.evaluation.domain.review.monitoring import activity, precision
from services.evaluation.domain.review.workflow import (
    Event,
    FlagState,
    Principal,
    Role,
    Step,
    Verdict,
    WorkflowError,
    take_step,
)

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
A = Principal("reviewer-a", Role.REVIEWER)
B = Principal("reviewer-b", Role.REVIEWER)
OWNER = Principal("staff", Role.HOSPITAL, "H33070200011")
OTHER = Principal("staff", Role.HOSPITAL, "H33070200027")
OPERATOR = Principal("ops", Role.OPERATOR)


def step(state: FlagState, who: Principal, s: Step, verdict: Verdict | None = Verdict.UPHOLD, *,
         history: tuple[Event, ...] = (), amount: int | None = None, reason: str = "read the record") -> Event:
    return take_step(state=state, history=history, flag_hospital="H33070200011", flag_amount=1000, step=s,
                     verdict=verdict, reason=reason, amount=amount, who=who, now=NOW)


def refused(why: str, *args: object, **kw: object) -> None:
    """``step(*args, **kw)`` is refused with the ErrorInfo reason ``why``."""
    with pytest.raises(WorkflowError) as caught:
        step(*args, **kw)  # type: ignore[arg-type]
    assert caught.value.reason == why, caught.value.message


def test_the_full_path_records_who_when_why_and_each_state() -> None:
    first = step(FlagState.OPEN, A, Step.FIRST_REVIEW)
    second = step(first.state, B, Step.RE_REVIEW, history=(first,), amount=600)
    appeal = step(second.state, OWNER, Step.APPEAL, verdict=None, reason="  the second charge was a refund  ")
    decided = step(appeal.state, A, Step.DECIDE)
    assert [e.state for e in (first, second, appeal, decided)] == [
        FlagState.FIRST_REVIEWED, FlagState.RE_REVIEWED, FlagState.APPEALED, FlagState.CONFIRMED]
    assert (appeal.actor, appeal.role, appeal.time, appeal.reason) == (
        "staff", Role.HOSPITAL, NOW, "the second charge was a refund")
    assert second.amount == 600 and decided.state.decided and not appeal.state.decided


def test_a_dismissal_ends_the_flag_at_any_review_step_and_decide_needs_no_appeal() -> None:
    assert step(FlagState.OPEN, A, Step.FIRST_REVIEW, Verdict.DISMISS).state is FlagState.DISMISSED
    first = step(FlagState.OPEN, A, Step.FIRST_REVIEW)
    assert step(first.state, B, Step.RE_REVIEW, Verdict.DISMISS, history=(first,)).state is FlagState.DISMISSED
    assert step(FlagState.RE_REVIEWED, A, Step.DECIDE, Verdict.DISMISS).state is FlagState.DISMISSED
    assert step(FlagState.RE_REVIEWED, A, Step.DECIDE).state is FlagState.CONFIRMED  # the hospital did not appeal


def test_only_the_flags_hospital_appeals_and_only_reviewers_review() -> None:
    refused("PERMISSION_DENIED", FlagState.RE_REVIEWED, OTHER, Step.APPEAL, verdict=None)
    refused("PERMISSION_DENIED", FlagState.RE_REVIEWED, A, Step.APPEAL, verdict=None)
    refused("PERMISSION_DENIED", FlagState.OPEN, OWNER, Step.FIRST_REVIEW)
    refused("PERMISSION_DENIED", FlagState.OPEN, OPERATOR, Step.FIRST_REVIEW)
    assert OWNER.sees("H33070200011") and not OWNER.sees("H33070200027") and A.sees("H33070200027")


def test_four_eyes_order_of_steps_and_decided_flags_are_final() -> None:
    first = step(FlagState.OPEN, A, Step.FIRST_REVIEW)
    refused("SAME_REVIEWER", first.state, A, Step.RE_REVIEW, history=(first,))
    refused("FLAG_STATE", FlagState.OPEN, B, Step.RE_REVIEW)
    refused("FLAG_STATE", FlagState.FIRST_REVIEWED, OWNER, Step.APPEAL, verdict=None)
    refused("FLAG_STATE", FlagState.OPEN, A, Step.DECIDE)
    for final in (FlagState.CONFIRMED, FlagState.DISMISSED):
        for s, who, verdict in ((Step.FIRST_REVIEW, A, Verdict.UPHOLD), (Step.DECIDE, A, Verdict.UPHOLD),
                                (Step.APPEAL, OWNER, None)):
            refused("FLAG_STATE", final, who, s, verdict=verdict)


def test_every_step_needs_a_reason_reviews_a_verdict_and_amounts_may_only_be_lowered() -> None:
    refused("INVALID_FIELD", FlagState.OPEN, A, Step.FIRST_REVIEW, reason="  ")
    refused("INVALID_FIELD", FlagState.OPEN, A, Step.FIRST_REVIEW, verdict=None)
    refused("INVALID_FIELD", FlagState.RE_REVIEWED, OWNER, Step.APPEAL, verdict=Verdict.UPHOLD)
    refused("INVALID_FIELD", FlagState.RE_REVIEWED, OWNER, Step.APPEAL, verdict=None, amount=5)
    refused("INVALID_FIELD", FlagState.OPEN, A, Step.FIRST_REVIEW, amount=1001)
    refused("INVALID_FIELD", FlagState.OPEN, A, Step.FIRST_REVIEW, amount=-1)
    refused("INVALID_FIELD", FlagState.OPEN, A, Step.FIRST_REVIEW, Verdict.DISMISS, amount=0)
    assert step(FlagState.OPEN, A, Step.FIRST_REVIEW, amount=0).amount == 0
    assert step(FlagState.OPEN, A, Step.FIRST_REVIEW, amount=1000).amount == 1000


def test_activity_is_flags_per_thousand_lists_and_precision_confirmed_over_decided_half_up() -> None:
    assert [activity(f, n) for f, n in ((0, 100), (1, 3), (1, 8000), (1, 20000), (5, 0), (7, 7))] == [
        "0.0", "333.3", "0.1", "0.1", "0.0", "1000.0"]  # 1/8000 = 0.125 -> 0.1; 1/20000 = 0.05 -> 0.1
    assert [precision(c, d) for c, d in ((0, 0), (1, 1), (0, 3), (2, 3), (1, 8), (1, 16))] == [
        "", "1.000", "0.000", "0.667", "0.125", "0.063"]  # 0.0625 -> 0.063
