"""The predicate language of scheme packs, compiled to closures over a ``CaseView``.

Each predicate compiles once to a ``Compiled``: the test itself, a human rendering for explanations, and a
*guard*: a set the principal diagnosis must belong to for the test to hold (``None`` when there is no such
necessary condition). Guards let the scheme index rules by principal diagnosis instead of scanning them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SchemeError
from .view import CaseView

Test = Callable[[CaseView], bool]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "eq": operator.eq, "ne": operator.ne,
}
_NUMERIC_FIELDS = ("age_years", "age_days", "birth_weight_g", "sex", "los_days", "dx_count")
_TEXT_FIELDS = ("discharge_type", "dept")


@dataclass(frozen=True, slots=True)
class Compiled:
    test: Test
    text: str
    dx0_guard: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What predicates may refer to besides the case: the pack's tables. ``file`` and ``where`` name errors."""

    or_procedures: frozenset[str]
    has_mcc: Test
    has_cc: Test
    file: str
    where: str
    tags: frozenset[str] = frozenset()

    def error(self, problem: str) -> SchemeError:
        return SchemeError(self.file, self.where, problem)


def compile_rule(node: Any, ctx: CompileContext) -> Compiled:
    """An ADRG rule: a predicate, or ``{"with_proc_tags": {...}, "rule": p}`` (JA1, JA2, NA1)."""
    if isinstance(node, dict) and "with_proc_tags" in node:
        return _compile_tagged(node, ctx)
    return compile_predicate(node, ctx)


def compile_predicate(node: Any, ctx: CompileContext) -> Compiled:
    if not isinstance(node, dict) or len(node) != 1:
        raise ctx.error(f"a predicate is an object with exactly one key, got {_short(node)}")
    ((kind, arg),) = node.items()
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ctx.error(f"unknown predicate {kind!r}")
    return builder(arg, ctx)


def _always(arg: Any, ctx: CompileContext) -> Compiled:
    if arg is not True:
        raise ctx.error("'always' takes true")
    return Compiled(lambda v: True, "always")


def _all(arg: Any, ctx: CompileContext) -> Compiled:
    parts = _children(arg, "all", ctx)
    tests = tuple(p.test for p in parts)
    guards = [p.dx0_guard for p in parts if p.dx0_guard is not None]
    guard = frozenset.intersection(*guards) if guards else None
    return Compiled(lambda v: all(t(v) for t in tests), "all(" + ", ".join(p.text for p in parts) + ")", guard)


def _any(arg: Any, ctx: CompileContext) -> Compiled:
    parts = _children(arg, "any", ctx)
    tests = tuple(p.test for p in parts)
    guarded = all(p.dx0_guard is not None for p in parts)
    guard = frozenset().union(*(p.dx0_guard or () for p in parts)) if guarded else None
    return Compiled(lambda v: any(t(v) for t in tests), "any(" + ", ".join(p.text for p in parts) + ")", guard)


def _not(arg: Any, ctx: CompileContext) -> Compiled:
    inner = compile_predicate(arg, ctx)
    test = inner.test
    return Compiled(lambda v: not test(v), f"not({inner.text})")


def _principal_dx_in(arg: Any, ctx: CompileContext) -> Compiled:
    codes = _codes(arg, "principal_dx_in", ctx)
    return Compiled(lambda v: v.dx0 in codes, f"principal diagnosis in {len(codes)} codes", codes)


def _any_dx_in(arg: Any, ctx: CompileContext) -> Compiled:
    codes = _codes(arg, "any_dx_in", ctx)
    return Compiled(lambda v: not codes.isdisjoint(v.dx_set), f"any diagnosis in {len(codes)} codes")


def _secondary_dx_in(arg: Any, ctx: CompileContext) -> Compiled:
    codes = _codes(arg, "secondary_dx_in", ctx)
    return Compiled(lambda v: not codes.isdisjoint(v.sec_set), f"a secondary diagnosis in {len(codes)} codes")


def _principal_proc_in(arg: Any, ctx: CompileContext) -> Compiled:
    codes = _codes(arg, "principal_proc_in", ctx)
    return Compiled(lambda v: v.px0 in codes, f"principal procedure in {len(codes)} codes")


def _any_proc_in(arg: Any, ctx: CompileContext) -> Compiled:
    codes = _codes(arg, "any_proc_in", ctx)
    return Compiled(lambda v: not codes.isdisjoint(v.px_set), f"any procedure in {len(codes)} codes")


def _principal_proc_is_or(arg: Any, ctx: CompileContext) -> Compiled:
    _require_true(arg, "principal_proc_is_or", ctx)
    ors = ctx.or_procedures
    return Compiled(lambda v: v.px0 in ors, "principal procedure is an OR procedure")


def _any_proc_is_or(arg: Any, ctx: CompileContext) -> Compiled:
    _require_true(arg, "any_proc_is_or", ctx)
    ors = ctx.or_procedures
    return Compiled(lambda v: not ors.isdisjoint(v.px_set), "some procedure is an OR procedure")


def _has_proc(arg: Any, ctx: CompileContext) -> Compiled:
    _require_true(arg, "has_proc", ctx)
    return Compiled(lambda v: bool(v.px), "has a procedure")


def _has_mcc(arg: Any, ctx: CompileContext) -> Compiled:
    _require_true(arg, "has_mcc", ctx)
    return Compiled(ctx.has_mcc, "has MCC")


def _has_cc(arg: Any, ctx: CompileContext) -> Compiled:
    _require_true(arg, "has_cc", ctx)
    return Compiled(ctx.has_cc, "has CC")


def _cmp(arg: Any, ctx: CompileContext) -> Compiled:
    if not (isinstance(arg, list) and len(arg) == 3):
        raise ctx.error(f"'cmp' takes [field, op, value], got {_short(arg)}")
    name, op_name, value = arg
    op = _OPS.get(op_name)
    if op is None:
        raise ctx.error(f"'cmp' operator {op_name!r} is not one of {', '.join(_OPS)}")
    text = f"{name} {op_name} {value!r}"
    if name in _TEXT_FIELDS:
        want = str(value)
        return Compiled(_text_cmp(name, op, want), text)
    if name not in _NUMERIC_FIELDS:
        raise ctx.error(f"'cmp' field {name!r} is not one of {', '.join(_NUMERIC_FIELDS + _TEXT_FIELDS)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(f"'cmp' on {name} needs a number, got {value!r}")
    return Compiled(_numeric_cmp(name, op, value), text)


def _numeric_cmp(name: str, op: Callable[[Any, Any], bool], want: float) -> Test:
    if name == "dx_count":
        return lambda v: op(len(v.dx), want)
    zero_is_missing = name == "birth_weight_g"

    def test(v: CaseView) -> bool:
        got = getattr(v.case, name)
        if got is None or (zero_is_missing and got == 0):
            return False
        return op(got, want)

    return test


def _text_cmp(name: str, op: Callable[[Any, Any], bool], want: str) -> Test:
    def test(v: CaseView) -> bool:
        got = getattr(v.case, name)
        return got is not None and op(str(got), want)

    return test


def _trauma_sites_min(arg: Any, ctx: CompileContext) -> Compiled:
    if not isinstance(arg, dict) or not isinstance(arg.get("min_sites"), int) or not isinstance(arg.get("sites"), dict):
        raise ctx.error("'trauma_sites_min' takes {min_sites: int, sites: {site: [codes]}}")
    site_of: dict[str, str] = {}
    for site, codes in arg["sites"].items():
        for code in _codes(codes, f"trauma site {site}", ctx):
            if site_of.setdefault(code, site) != site:
                raise ctx.error(f"trauma code {code} is listed under sites {site_of[code]!r} and {site!r}")
    need: int = arg["min_sites"]
    return Compiled(lambda v: len({site_of[d] for d in v.dx if d in site_of}) >= need,
                    f"diagnoses hit at least {need} trauma sites")


def _proc_tag(arg: Any, ctx: CompileContext) -> Compiled:
    tag = str(arg)
    if tag not in ctx.tags:
        raise ctx.error(f"'proc_tag' {tag!r} is not declared by an enclosing with_proc_tags")
    return Compiled(lambda v: tag in v.tags, f"procedure tag {tag}")


def _compile_tagged(node: dict[str, Any], ctx: CompileContext) -> Compiled:
    tag_lists = node["with_proc_tags"]
    if set(node) != {"with_proc_tags", "rule"} or not isinstance(tag_lists, dict):
        raise ctx.error("'with_proc_tags' takes {with_proc_tags: {tag: [codes]}, rule: predicate}")
    tags = tuple((str(t), _codes(c, f"proc tag {t}", ctx)) for t, c in tag_lists.items())
    inner = compile_predicate(node["rule"], _with_tags(ctx, frozenset(t for t, _ in tags)))
    inner_test = inner.test

    def test(v: CaseView) -> bool:
        v.tags = frozenset(t for t, codes in tags if not codes.isdisjoint(v.px_set))
        return inner_test(v)

    return Compiled(test, f"with procedure tags {[t for t, _ in tags]}: {inner.text}", inner.dx0_guard)


def _with_tags(ctx: CompileContext, tags: frozenset[str]) -> CompileContext:
    return CompileContext(ctx.or_procedures, ctx.has_mcc, ctx.has_cc, ctx.file, ctx.where, tags)


def _children(arg: Any, kind: str, ctx: CompileContext) -> list[Compiled]:
    if not isinstance(arg, list) or not arg:
        raise ctx.error(f"'{kind}' takes a non-empty list of predicates")
    return [compile_predicate(p, ctx) for p in arg]


def _codes(arg: Any, kind: str, ctx: CompileContext) -> frozenset[str]:
    if not isinstance(arg, list) or not all(isinstance(c, str) for c in arg):
        raise ctx.error(f"'{kind}' takes a list of code strings")
    codes = frozenset(arg)
    if len(codes) != len(arg):
        dupes = sorted({c for c in arg if arg.count(c) > 1})
        raise ctx.error(f"'{kind}' lists duplicate codes: {', '.join(dupes[:5])}")
    return codes


def _require_true(arg: Any, kind: str, ctx: CompileContext) -> None:
    if arg is not True:
        raise ctx.error(f"'{kind}' takes true")


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) <= 60 else text[:57] + "..."


_BUILDERS: Mapping[str, Callable[[Any, CompileContext], Compiled]] = {
    "always": _always, "all": _all, "any": _any, "not": _not,
    "principal_dx_in": _principal_dx_in, "any_dx_in": _any_dx_in, "secondary_dx_in": _secondary_dx_in,
    "principal_proc_in": _principal_proc_in, "any_proc_in": _any_proc_in,
    "principal_proc_is_or": _principal_proc_is_or, "any_proc_is_or": _any_proc_is_or,
    "has_proc": _has_proc, "has_mcc": _has_mcc, "has_cc": _has_cc, "cmp": _cmp,
    "trauma_sites_min": _trauma_sites_min, "proc_tag": _proc_tag,
}
