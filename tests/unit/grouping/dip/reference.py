"""An independent, straightforward DIP implementation, written from FORMAT.md's text alone.

It shares nothing with ``services.grouping.domain.dip``: plain dicts and lists, ``Fraction`` for money, and a
scan over every core group for partial matches. The property tests compare the real implementation with it on
random data; any disagreement is a bug in one of them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

DIAGNOSTIC = ("87.", "88.", "89.", "90.", "91.")


def principal(case: dict[str, Any]) -> str | None:
    dx = [c.strip() for c in case.get("dx") or [] if c.strip() != ""]
    return dx[0] if dx else None


def klass(code: str, surgery: set[str]) -> str:
    if any(code.startswith(p) for p in DIAGNOSTIC):
        return "diagnostic"
    return "surgery" if code in surgery else "therapeutic"


def derived(case: dict[str, Any], surgery: set[str]) -> tuple[str, str, list[str], str, str] | None:
    """(dx4, dx3, P, type, key) or None without a principal diagnosis."""
    pdx = principal(case)
    if pdx is None:
        return None
    codes = [c.strip() for c in case.get("px") or [] if c.strip() != ""]
    classes = [klass(c, surgery) for c in codes]
    p = sorted({c for c, k in zip(codes, classes, strict=True) if k != "diagnostic"},
               key=lambda c: c.encode("utf-8"))
    if "surgery" in classes:
        kind = "S"
    elif p:
        kind = "T"
    elif "diagnostic" in classes:
        kind = "D"
    else:
        kind = "C"
    return pdx[:5], pdx[:3], p, kind, pdx[:5] + "|" + "+".join(p)


def half_up_2(value: Fraction) -> str:
    cents = value * 100
    whole = int(cents)  # non-negative here: truncation is floor
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return f"{whole // 100}.{whole % 100:02d}"


def build(history: list[dict[str, Any]], threshold: int, surgery: set[str]) -> str:
    """FORMAT.md's catalogue.tsv as text."""
    seen = [(d, Fraction(c["total_cost"])) for c in history if (d := derived(c, surgery)) is not None]
    counts: dict[str, int] = {}
    for d, _ in seen:
        counts[d[4]] = counts.get(d[4], 0) + 1
    rows: dict[str, dict[str, Any]] = {}
    for (dx4, dx3, p, kind, key), cost in seen:
        if counts[key] >= threshold:
            group_type = "S" if any(klass(c, surgery) == "surgery" for c in p) else ("T" if p else "C")
            row = rows.setdefault(key, {"kind": "core", "dx": dx4, "procedures": "+".join(p), "type": group_type,
                                        "costs": []})
        else:
            gid = dx3 + "/" + kind
            row = rows.setdefault(gid, {"kind": "comprehensive", "dx": dx3, "procedures": "", "type": kind,
                                        "costs": []})
        row["costs"].append(cost)
    lines = ["group_id\tkind\tdx\tprocedures\ttype\tcases\tmean_cost"]
    for gid in sorted(rows, key=lambda g: g.encode("utf-8")):
        r = rows[gid]
        mean = half_up_2(sum(r["costs"], Fraction(0)) / len(r["costs"]))
        lines.append(f"{gid}\t{r['kind']}\t{r['dx']}\t{r['procedures']}\t{r['type']}\t{len(r['costs'])}\t{mean}")
    return "\n".join(lines) + "\n"


def group(catalogue_tsv: str, case: dict[str, Any], surgery: set[str]) -> tuple[str, str]:
    """(group, kind) of one case against a catalogue.tsv text."""
    core = []
    for line in catalogue_tsv.splitlines()[1:]:
        gid, kind, dx, procedures, *_ = line.split("\t")
        if kind == "core":
            core.append((gid, dx, procedures.split("+") if procedures else []))
    d = derived(case, surgery)
    if d is None:
        return "0000", "ungroupable"
    dx4, dx3, p, kind, key = d
    if any(gid == key for gid, _, _ in core):
        return key, "core"
    candidates = [(gid, ps) for gid, dx, ps in core if dx == dx4 and ps and set(ps) <= set(p)]
    if candidates:
        most = max(len(ps) for _, ps in candidates)
        best = min((gid for gid, ps in candidates if len(ps) == most), key=lambda g: g.encode("utf-8"))
        return best, "core_partial"
    return dx3 + "/" + kind, "comprehensive"
