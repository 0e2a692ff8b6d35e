"""The review workflow of a flag: first review -> re-review -> the hospital's appeal -> confirmed or dismissed.

Each step names who took it, when and why. Reviewers review and decide (the re-reviewer is never the first
reviewer: four eyes); only the flag's own hospital appeals. A confirmed flag's amount is deducted when the
settlement run applies review's deductions.

    OPEN --first review: uphold--> FIRST_REVIEWED --re-review: uphold--> RE_REVIEWED --appeal--> APPEALED
      \\ dismiss -> DISMISSED        \\ dismiss -> DISMISSED         \\ decide              \\ decide
                                                                     -> CONFIRMED/DISMISSED  -> CONFIRMED/DISMISSED
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class FlagState(enum.Enum):
    OPEN = "OPEN"
    FIRST_REVIEWED = "FIRST_REVIEWED"
    RE_REVIEWED = "RE_REVIEWED"
    APPEALED = "APPEALED"
    CONFIRMED = "CONFIRMED"
    DISMISSED = "DISMISSED"

    @property
    def decided(self) -> bool:
        return self in (FlagState.CONFIRMED, FlagState.DISMISSED)


class Step(enum.Enum):
    FIRST_REVIEW = "FIRST_REVIEW"
    RE_REVIEW = "RE_REVIEW"
    APPEAL = "APPEAL"
    DECIDE = "DECIDE"


class Verdict(enum.Enum):
    UPHOLD = "UPHOLD"
    DISMISS = "DISMISS"


class Role(enum.Enum):
    REVIEWER = "reviewer"   # the insurance bureau's reviewers
    HOSPITAL = "hospital"   # a hospital, acting for its own institution only
    OPERATOR = "operator"   # platform operators: rule sets and knowledge, runs; not the workflow


@dataclass(frozen=True)
class Principal:
    """Who is calling: an actor id, a role and, for a hospital, its institution code."""

    actor: str
    role: Role
    institution: str = ""

    def sees(self, fixmedins_code: str) -> bool:
        """A hospital sees only its own flags; reviewers and operators see all."""
        return self.role is not Role.HOSPITAL or self.institution == fixmedins_code


class WorkflowError(ValueError):
    """A step that may not be taken: ``reason`` is the API's ErrorInfo reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Event:
    step: Step
    verdict: Verdict | None
    actor: str
    role: Role
    time: datetime
    reason: str
    amount: int | None
    state: FlagState


_FROM = {Step.FIRST_REVIEW: (FlagState.OPEN,), Step.RE_REVIEW: (FlagState.FIRST_REVIEWED,),
         Step.APPEAL: (FlagState.RE_REVIEWED,), Step.DECIDE: (FlagState.RE_REVIEWED, FlagState.APPEALED)}
_UPHELD = {Step.FIRST_REVIEW: FlagState.FIRST_REVIEWED, Step.RE_REVIEW: FlagState.RE_REVIEWED,
           Step.DECIDE: FlagState.CONFIRMED}


def take_step(*, state: FlagState, history: tuple[Event, ...], flag_hospital: str, flag_amount: int,
              step: Step, verdict: Verdict | None, reason: str, amount: int | None, who: Principal,
              now: datetime) -> Event:
    """The event of ``who`` taking ``step`` on a flag in ``state``, or ``WorkflowError`` saying why not."""
    if not reason.strip():
        raise WorkflowError("INVALID_FIELD", "a reason is required for every step")
    if step is Step.APPEAL:
        if who.role is not Role.HOSPITAL or who.institution != flag_hospital:
            raise WorkflowError("PERMISSION_DENIED", "only the flag's hospital appeals it")
        if verdict is not None or amount is not None:
            raise WorkflowError("INVALID_FIELD", "an appeal carries a reason only, no verdict or amount")
    else:
        if who.role is not Role.REVIEWER:
            raise WorkflowError("PERMISSION_DENIED", f"{step.value.lower().replace('_', ' ')} is for reviewers")
        if verdict is None:
            raise WorkflowError("INVALID_FIELD", "a review or decision needs a verdict: uphold or dismiss")
    if state not in _FROM[step]:
        allowed = " or ".join(s.value for s in _FROM[step])
        raise WorkflowError("FLAG_STATE", f"the flag is {state.value}; {step.value} needs {allowed}")
    if step is Step.RE_REVIEW:
        first = next((e.actor for e in history if e.step is Step.FIRST_REVIEW), "")
        if first == who.actor:
            raise WorkflowError("SAME_REVIEWER", f"{who.actor} did the first review; another reviewer re-reviews")
    if amount is not None:
        if verdict is not Verdict.UPHOLD:
            raise WorkflowError("INVALID_FIELD", "an amount goes with an uphold verdict")
        if not 0 <= amount <= flag_amount:
            raise WorkflowError("INVALID_FIELD", f"the amount may be lowered, not raised: 0 to {flag_amount} fen")
    after = FlagState.APPEALED if step is Step.APPEAL else (
        _UPHELD[step] if verdict is Verdict.UPHOLD else FlagState.DISMISSED)
    return Event(step, verdict, who.actor, who.role, now, reason.strip(), amount, after)
