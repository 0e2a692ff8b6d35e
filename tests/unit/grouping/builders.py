"""Hand-made scheme packs for unit tests, built in memory in the FORMAT.md shape."""

from __future__ import annotations

from typing import Any

from services.grouping.domain.case import Case
from services.grouping.domain.compiler import RawScheme, compile_scheme
from services.grouping.domain.scheme import Scheme


def rows(*pairs: tuple[str, str]) -> tuple[tuple[int, tuple[str, ...]], ...]:
    return tuple((i + 2, p) for i, p in enumerate(pairs))


def pack(rule: Any, *, drgs: list[dict[str, Any]] | None = None, entry: Any = None,
         mcc: tuple[tuple[str, str], ...] = (), cc: tuple[tuple[str, str], ...] = (),
         exclusion: tuple[tuple[str, str], ...] = (), ors: tuple[str, ...] = (), extra: dict[str, Any] | None = None,
         mdc_steps: list[Any] | None = None) -> Scheme:
    """One MDC "T" (entry ``always`` unless given) with one ADRG step "TA1" whose rule is ``rule``."""
    doc: dict[str, Any] = {
        "scheme": "TEST", "version": "t",
        "mdcs": [{"code": "T", "entry": entry or {"always": True}, "adrgs": mdc_steps or ["TA1"]}],
        "adrgs": {"TA1": {"adrg": "TA1", "rule": rule, "fallback": "TA1", "rule_text": "test rule",
                          "drgs": drgs or [{"code": "TA19", "name": "t", "when": {"always": True}}]}},
    }
    doc.update(extra or {})
    tables = {"mcc.tsv": rows(*mcc), "cc.tsv": rows(*cc), "cc_exclusion.tsv": rows(*exclusion),
              "or_procedures.tsv": rows(*((p, "op") for p in ors)), "drgs.tsv": rows()}
    return compile_scheme(RawScheme("test", doc, tables, "0" * 64))


def case(dx: tuple[str, ...] = ("A00.000",), px: tuple[str, ...] = (), **fields: Any) -> Case:
    defaults: dict[str, Any] = {"sex": 1, "age_years": 40, "los_days": 5, "discharge_type": "1"}
    defaults.update(fields)
    return Case(dx=dx, px=px, **defaults)
