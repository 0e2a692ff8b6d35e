"""The decision trace: why a case landed where it did. Computed only when asked for, after grouping."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .case import Case
from .scheme import AdrgStep, Scheme

if TYPE_CHECKING:
    from .engine import Decision


def explain(scheme: Scheme, case: Case, decision: Decision | None) -> tuple[str, ...]:
    lines = [f"scheme {scheme.scheme_id} {scheme.version}"]
    if decision is None:
        lines.append("no MDC entry together with an ADRG rule held: ungroupable (0000)")
        return tuple(lines) + _severity_lines(scheme, case)
    if decision.px != case.px:
        lines.append(f"grouped on procedure {decision.px[0]} alone (procedure retry of this pack)")
    lines.append(f"MDC {decision.mdc.code} entered: {decision.mdc.entry.text}")
    step = decision.step
    if step is None:
        lines.append(f"ambiguous group of MDC {decision.mdc.code}: {decision.drg}")
        return tuple(lines)
    lines.append(f"ADRG {step.adrg} (step {step.step_id}) matched: {step.rule_text or step.rule.text}")
    lines.append(f"DRG {decision.drg}: {_drg_condition(step, decision.drg)}")
    return tuple(lines) + _severity_lines(scheme, case)


def _drg_condition(step: AdrgStep, drg: str) -> str:
    for rule in step.drgs:
        if rule.code == drg:
            return rule.when.text
    return "fallback of the step"


def _severity_lines(scheme: Scheme, case: Case) -> tuple[str, ...]:
    main_table = scheme.severity.exclusion.get(case.dx[0]) if case.dx else None
    out = []
    for f in scheme.severity.findings(case.dx):
        if not f.level:
            out.append(f"secondary {f.code}: neither MCC nor CC")
        elif f.excluded:
            out.append(f"secondary {f.code}: {f.level} excluded by table {f.table} of the principal diagnosis")
        else:
            out.append(f"secondary {f.code}: counts as {f.level} (table {f.table}, principal's table "
                       f"{main_table or 'none'})")
    return tuple(out)
