"""Check a scheme pack and compile it into a ``Scheme`` (FORMAT.md is the specification).

The input is the pack already read from disk (``RawScheme``); every problem is a ``SchemeError`` naming the
file and the rule, so an operator can fix a pack without reading code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SchemeError
from .predicates import CompileContext, Compiled, Test, compile_predicate, compile_rule
from .scheme import AdrgStep, AmbiguousStep, DrgInfo, DrgRule, GuardedIndex, Mdc, Scheme, Step
from .severity import SeverityTables
from .view import CaseView

SCHEME_FILE = "scheme.json"
TABLE_FILES = ("mcc.tsv", "cc.tsv", "cc_exclusion.tsv", "or_procedures.tsv", "drgs.tsv")


@dataclass(frozen=True, slots=True)
class RawScheme:
    """A pack as read: the parsed scheme.json, each table as (line number, columns) rows, and a digest."""

    scheme_id: str
    document: Mapping[str, Any]
    tables: Mapping[str, tuple[tuple[int, tuple[str, ...]], ...]]
    digest: str


def compile_scheme(raw: RawScheme) -> Scheme:
    doc = raw.document
    for key in ("mdcs", "adrgs", "version"):
        if key not in doc:
            raise SchemeError(SCHEME_FILE, "top level", f"missing key {key!r}")
    severity = SeverityTables(
        mcc=_code_map(raw, "mcc.tsv"), cc=_code_map(raw, "cc.tsv"), exclusion=_code_map(raw, "cc_exclusion.tsv"))
    or_procedures = frozenset(_code_map(raw, "or_procedures.tsv"))
    base = CompileContext(
        or_procedures=or_procedures,
        has_mcc=_lazy_level(severity, "mcc"), has_cc=_lazy_level(severity, "cc"),
        file=SCHEME_FILE, where="")
    steps = _compile_steps(doc["adrgs"], base)
    mdcs = tuple(_compile_mdc(i, m, steps, base) for i, m in enumerate(_list(doc["mdcs"], "mdcs")))
    _check_unique([m.code for m in mdcs], "mdcs", "MDC code")
    names = _code_map(raw, "drgs.tsv")
    return Scheme(
        scheme_id=raw.scheme_id,
        name=str(doc.get("scheme", "CHS-DRG")),
        version=f"{doc['version']}+{raw.digest[:12]}",
        mdcs=GuardedIndex.build(mdcs, tuple(m.entry.dx0_guard for m in mdcs)),
        severity=severity,
        or_procedures=or_procedures,
        retry_each_other_procedure_alone=bool(doc.get("retry_each_other_procedure_alone", False)),
        drgs=_drg_catalogue(mdcs, names),
        adrg_count=len({s.adrg for s in steps.values()}),
        step_count=len(steps),
    )


def _lazy_level(severity: SeverityTables, level: str) -> Test:
    """A test computing MCC (or CC) once per case view, on first use (most cases reach one DRG split)."""
    if level == "mcc":
        def has_mcc(v: CaseView) -> bool:
            if v.mcc is None:
                v.mcc = severity.has_mcc(v.dx)
            return v.mcc
        return has_mcc

    def has_cc(v: CaseView) -> bool:
        if v.cc is None:
            v.cc = severity.has_cc(v.dx)
        return v.cc
    return has_cc


def _compile_steps(adrgs: Any, base: CompileContext) -> dict[str, AdrgStep]:
    if not isinstance(adrgs, dict):
        raise SchemeError(SCHEME_FILE, "adrgs", "must be an object of rule steps")
    return {step_id: _compile_step(step_id, body, base) for step_id, body in adrgs.items()}


def _compile_step(step_id: str, body: Any, base: CompileContext) -> AdrgStep:
    where = f"adrgs.{step_id}"
    ctx = _at(base, where)
    if not isinstance(body, dict):
        raise ctx.error("a rule step is an object")
    for key in ("adrg", "rule", "drgs"):
        if key not in body:
            raise ctx.error(f"missing key {key!r}")
    drgs = tuple(_compile_drg(i, d, _at(base, f"{where}.drgs[{i}]")) for i, d in enumerate(_list(body["drgs"], where)))
    if not drgs:
        raise ctx.error("has no DRGs")
    return AdrgStep(step_id, str(body["adrg"]), compile_rule(body["rule"], ctx), drgs,
                    str(body.get("fallback", body["adrg"])), str(body.get("rule_text", "")))


def _compile_drg(index: int, body: Any, ctx: CompileContext) -> DrgRule:
    if not isinstance(body, dict) or "code" not in body or "when" not in body:
        raise ctx.error("a DRG split is an object with 'code' and 'when'")
    code = str(body["code"])
    if len(code) != 4:
        raise ctx.error(f"DRG code {code!r} is not 4 characters")
    return DrgRule(code, str(body.get("name", "")), compile_predicate(body["when"], ctx))


def _compile_mdc(index: int, body: Any, steps: Mapping[str, AdrgStep], base: CompileContext) -> Mdc:
    ctx = _at(base, f"mdcs[{index}]")
    if not isinstance(body, dict) or not {"code", "entry", "adrgs"} <= set(body):
        raise ctx.error("an MDC is an object with 'code', 'entry' and 'adrgs'")
    code = str(body["code"])
    ctx = _at(base, f"mdcs[{index}] (MDC {code})")
    items: list[Step] = []
    for j, ref in enumerate(_list(body["adrgs"], ctx.where)):
        if isinstance(ref, str):
            if ref not in steps:
                raise ctx.error(f"ADRG step {ref!r} is not defined in 'adrgs'")
            items.append(steps[ref])
        elif isinstance(ref, dict) and set(ref) == {"ambiguous_if"}:
            items.append(AmbiguousStep(compile_predicate(ref["ambiguous_if"], _at(base, f"{ctx.where}.adrgs[{j}]"))))
        else:
            raise ctx.error(f"adrgs[{j}] is neither a step id nor an ambiguous_if object")
    guards = tuple(_step_guard(s) for s in items)
    return Mdc(code, compile_predicate(body["entry"], ctx), GuardedIndex.build(tuple(items), guards))


def _step_guard(step: Step) -> frozenset[str] | None:
    return step.when.dx0_guard if isinstance(step, AmbiguousStep) else step.rule.dx0_guard


def _drg_catalogue(mdcs: tuple[Mdc, ...], names: Mapping[str, str]) -> dict[str, DrgInfo]:
    out: dict[str, DrgInfo] = {}
    for mdc in mdcs:
        for step in mdc.steps.items:
            if isinstance(step, AmbiguousStep):
                code = f"{mdc.code}QY"
                out.setdefault(code, DrgInfo(code, names.get(code, f"MDC {mdc.code} 歧义组"), mdc.code, "QY"))
                continue
            for drg in step.drgs:
                out.setdefault(drg.code, DrgInfo(drg.code, names.get(drg.code, drg.name), mdc.code, step.adrg))
    return out


def _code_map(raw: RawScheme, file: str) -> dict[str, str]:
    """First column -> second column; an exact repeated row is tolerated, a conflicting one is an error."""
    rows = raw.tables.get(file)
    if rows is None:
        raise SchemeError(file, "file", "missing from the pack")
    out: dict[str, str] = {}
    for line, cols in rows:
        if len(cols) < 2 or not cols[0]:
            raise SchemeError(file, f"line {line}", "expected two tab-separated columns")
        code, value = cols[0], cols[1]
        if out.setdefault(code, value) != value:
            raise SchemeError(file, f"line {line}", f"duplicate code {code} with a different value "
                                                    f"({out[code]!r} and {value!r})")
    return out


def _check_unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise SchemeError(SCHEME_FILE, where, f"duplicate {what} {v!r}")
        seen.add(v)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SchemeError(SCHEME_FILE, where, "must be a list")
    return value


def _at(ctx: CompileContext, where: str) -> CompileContext:
    return CompileContext(ctx.or_procedures, ctx.has_mcc, ctx.has_cc, ctx.file, where, ctx.tags)


__all__ = ["SCHEME_FILE", "TABLE_FILES", "Compiled", "RawScheme", "compile_scheme"]
