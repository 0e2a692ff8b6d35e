"""An independent, deliberately plain reading of INDICATORS.md: dicts, loops, ``Fraction`` and ``Decimal``.

It shares nothing with ``services.evaluation`` (no numpy, no column tables, no float estimates, its own
rounding through ``Decimal.quantize``), so agreement between the two on random data is evidence, not an echo.
Quadratic in places; meant for small inputs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

HEADER = ("level,unit,cases,grouped,grouping_rate,drg_count,total_weight,cmi,time_index,cost_index,"
          "low_risk_cases,low_risk_deaths,low_risk_mortality,readmit15_rate")


def round_4(value: Fraction) -> str:
    """Half up to 4 places. With 100 significant digits, no fraction of these small denominators lies so close
    to a tie that the division could move it across (ties themselves are exact)."""
    with localcontext() as context:
        context.prec = 100
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def indicators_csv(cases: list[dict[str, Any]], weights: dict[str, str]) -> str:
    rw = {group: Fraction(text) for group, text in weights.items()}
    n_g: dict[str, int] = defaultdict(int)
    los_g: dict[str, int] = defaultdict(int)
    cost_g: dict[str, Fraction] = defaultdict(Fraction)
    deaths_g: dict[str, int] = defaultdict(int)
    for case in cases:
        g = case["group"]
        n_g[g] += 1
        los_g[g] += case["los"]
        cost_g[g] += Fraction(case["total_cost"])
        deaths_g[g] += case["dscg_way"] == "5"

    eligible = [g for g in n_g if g in rw and n_g[g] >= 30]
    low_risk: set[str] = set()
    if eligible:
        m = {g: Fraction(deaths_g[g], n_g[g]) for g in eligible}
        mu = sum(m.values(), Fraction(0)) / len(m)
        variance = sum(((x - mu) ** 2 for x in m.values()), Fraction(0)) / len(m)
        low_risk = {g for g in eligible if mu - m[g] > 0 and (mu - m[g]) ** 2 > variance}

    by_person: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_person[c["psn_no"]].append(i)
    readmitted = set()
    for i, c in enumerate(cases):
        out = date.fromisoformat(c["dscg_date"])
        for j in by_person[c["psn_no"]]:
            if j != i and 0 <= (date.fromisoformat(cases[j]["adm_date"]) - out).days <= 15:
                readmitted.add(i)

    units: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        units[(0, "ALL")].append(i)
        units[(1, c["hospital"])].append(i)
        units[(2, f"{c['hospital']}/{c['dept']}")].append(i)
        units[(3, c["doctor"])].append(i)
    names = ("region", "hospital", "dept", "doctor")

    lines = [HEADER]
    for level, unit in sorted(units, key=lambda key: (key[0], key[1].encode())):
        mine = [cases[i] for i in units[(level, unit)]]
        n = len(mine)
        grouped = sum(c["group"] != "0000" for c in mine)
        weighted = [c for c in mine if c["group"] in rw]
        total = sum((rw[c["group"]] for c in weighted), Fraction(0))
        cmi = time_index = cost_index = ""
        if weighted:
            cmi = round_4(total / len(weighted))
            time_terms = [Fraction(1) if los_g[c["group"]] == 0 else
                          Fraction(c["los"]) / (Fraction(los_g[c["group"]]) / n_g[c["group"]]) for c in weighted]
            cost_terms = [Fraction(1) if cost_g[c["group"]] == 0 else
                          Fraction(c["total_cost"]) / (cost_g[c["group"]] / n_g[c["group"]]) for c in weighted]
            time_index = round_4(sum(time_terms, Fraction(0)) / len(weighted))
            cost_index = round_4(sum(cost_terms, Fraction(0)) / len(weighted))
        low = [c for c in mine if c["group"] in low_risk]
        low_deaths = sum(c["dscg_way"] == "5" for c in low)
        readmits = sum(i in readmitted for i in units[(level, unit)])
        lines.append(",".join(str(cell) for cell in (
            names[level], unit, n, grouped, round_4(Fraction(grouped, n)), len({c["group"] for c in weighted}),
            f"{Decimal(total.numerator) / Decimal(total.denominator):.4f}", cmi, time_index, cost_index,
            len(low), low_deaths, round_4(Fraction(low_deaths, len(low))) if low else "",
            round_4(Fraction(readmits, n)))))
    return "\n".join(lines) + "\n"
