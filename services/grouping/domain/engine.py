"""The grouping algorithm of FORMAT.md over a compiled ``Scheme``.

``group_case`` never raises on case content: every case ends in a ``GroupResult`` with a status.
"""

from __future__ import annotations

from dataclasses import dataclass

from .case import Case, GroupResult, GroupStatus
from .checks import CodeTables, check_case
from .explain import explain
from .scheme import AdrgStep, AmbiguousStep, Mdc, Scheme
from .view import CaseView

AMBIGUOUS_ADRG = "QY"


@dataclass(frozen=True, slots=True)
class Decision:
    """Where the algorithm stopped: MDC, step (``None`` for an ambiguous group), DRG, and the procedures used."""

    mdc: Mdc
    step: AdrgStep | None
    drg: str
    px: tuple[str, ...]


def group_case(
    scheme: Scheme, case: Case, *, codes: CodeTables | None = None, explained: bool = False
) -> GroupResult:
    """Group one case. With ``codes``, the input checks run first; ``explained`` adds the decision trace."""
    if codes is not None:
        failure = check_case(case, codes)
        if failure is not None:
            return GroupResult(scheme.scheme_id, scheme.version, failure[0], message=failure[1])
    decision = decide(scheme, case)
    trace = explain(scheme, case, decision) if explained else ()
    if decision is None:
        return GroupResult(scheme.scheme_id, scheme.version, GroupStatus.UNGROUPABLE,
                           message="no MDC and ADRG rule matched the case", trace=trace)
    step = decision.step
    return GroupResult(
        scheme.scheme_id, scheme.version, GroupStatus.GROUPED, decision.drg,
        step.adrg if step else AMBIGUOUS_ADRG, decision.mdc.code,
        step.step_id if step and step.step_id != step.adrg else "", trace=trace)


def decide(scheme: Scheme, case: Case) -> Decision | None:
    """Steps 1-5 of the algorithm: the first MDC/ADRG/DRG match, with the procedure retry where the pack asks."""
    found = _attempt(scheme, case, case.px)
    if found is None and scheme.retry_each_other_procedure_alone and len(case.px) > 1:
        for procedure in case.px[1:]:
            found = _attempt(scheme, case, (procedure,))
            if found is not None:
                break
    return found


def _attempt(scheme: Scheme, case: Case, px: tuple[str, ...]) -> Decision | None:
    view = CaseView(case, px)
    dx0 = view.dx0
    for mdc in scheme.mdcs.candidates(dx0):
        if not mdc.entry.test(view):
            continue
        for step in mdc.steps.candidates(dx0):
            if isinstance(step, AmbiguousStep):
                if step.when.test(view):
                    return Decision(mdc, None, f"{mdc.code}{AMBIGUOUS_ADRG}", px)
            elif step.rule.test(view):
                for drg in step.drgs:
                    if drg.when.test(view):
                        return Decision(mdc, step, drg.code, px)
                return Decision(mdc, step, step.fallback, px)
    return None
