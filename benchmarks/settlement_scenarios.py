"""Synthetic settlement scenarios in FORMAT.md's files: ``cases.jsonl``, ``history.jsonl``, ``params.json``.

One seeded generator serves the benchmark (large, realistic) and the cross-check tests (small, edgy: costs
from a few round values so that percentiles, thresholds and roundings tie; stays of one person a few days
apart; coefficients with three decimals so that products land on half a unit; special cases exactly at the
cap; groups below ``min_cases``, fixed groups without data, levels with empty entries).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Scenario:
    seed: int = 1
    cases: int = 2_000
    history: int = 6_000
    groups: int = 60
    hospitals: int = 10
    persons: int = 0
    """0: about one person per 1.5 cases."""
    method: str = "points"
    scale: int = 100
    edgy: bool = False
    """Few distinct costs, close readmissions, tie-prone parameters, odd codes."""
    readmission_days: int = 15
    min_cases: int = 30
    special_share: float = 0.01
    at_cap: bool = False
    """Approve exactly floor(cap_share x cases) special cases."""


YEARS = [2023, 2024, 2025]
SETTLEMENT_YEAR = 2026


_MULTIPLES = [(1, 1), (1, 1), (1, 1), (2, 1), (3, 1), (3, 2), (2, 5), (1, 2), (5, 2), (0, 1)]


def _money(rng: random.Random, mean: float, edgy: bool) -> str:
    if edgy and rng.random() < 0.7:  # round multiples of the group's base: costs exactly at k x std, ties
        num, den = rng.choice(_MULTIPLES)
        fen = int(round(mean, -2)) * 100 * num // den
    else:
        fen = max(0, int(rng.lognormvariate(math.log(mean * 100), 0.55)))
    if edgy and rng.random() < 0.1:  # amounts without their two decimals are valid too
        return str(fen // 100) if fen % 100 == 0 or rng.random() < 0.5 else f"{fen // 100}.{fen % 100 // 10}"
    return f"{fen // 100}.{fen % 100:02d}"


def _groups(rng: random.Random, s: Scenario) -> list[tuple[str, float]]:
    codes = []
    for i in range(s.groups):
        if s.scale == 1000:
            code = f"{rng.choice('ACEIKNST')}{rng.randint(10, 99)}.{rng.randint(0, 9)}"
            code += f":{rng.randint(10, 99)}.{rng.randint(10, 99)}" if i % 2 else ""
        else:
            code = f"{rng.choice('ABEFGHIJKLNOPRSTUVWXYZ')}{rng.choice('ABCDEJKLRSTUVWYZ')}{rng.randint(10, 39)}"
        codes.append((f"{code}{i}" if any(c == code for c, _ in codes) else code,
                      rng.lognormvariate(math.log(15_000), 0.8)))
    codes += [("0000", 9_000.0), (f"{codes[0][0][:2]}QY", 30_000.0)]
    if s.edgy:
        codes += [('G,1', 4_000.0), ('G"2', 5_000.0)]
    return codes


def _pick(rng: random.Random, groups: list[tuple[str, float]]) -> tuple[str, float]:
    """Zipf-like: a few groups take most cases."""
    index = min(int(rng.paretovariate(1.1)) - 1, len(groups) - 1)
    return groups[index if rng.random() < 0.85 else rng.randrange(len(groups))]


def _date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365 if year % 4 else 366))


def _coefficient(rng: random.Random, edgy: bool) -> str:
    return rng.choice(["0.925", "1.075", "0.875", "1.005"]) if edgy else f"{rng.randint(80, 110) / 100:.2f}"


def params(rng: random.Random, s: Scenario, groups: list[tuple[str, float]], hospitals: list[str],
           case_ids: list[str]) -> dict[str, Any]:
    levels: dict[str, Any] = {"1": {"coefficient": "0.80", "high_k": "2"}, "2": {"coefficient": "0.92",
                              "high_k": "2.5"}, "3": {} if s.edgy else {"coefficient": "1.00", "high_k": "3"}}
    if s.edgy:
        levels["2"] = {"coefficient": "0.925"}
    data_groups = [g for g, _ in groups[:-2]]
    fixed = {g: f"{rng.randint(1000, 40000) / 10000:.4f}" for g in rng.sample(data_groups, min(3, len(data_groups)))}
    fixed["ZZ99"] = "1.2345"  # a fixed group without any data
    cap_share = "0.05"
    n_special = math.floor(0.05 * len(case_ids)) if s.at_cap else int(s.special_share * len(case_ids))
    p: dict[str, Any] = {
        "method": s.method, "scale": s.scale,
        "weights": {"years": YEARS, "year_weights": [1, 2, 7], "trim_percentiles": [2.5, 97.5],
                    "min_cases": s.min_cases, "exclude": [data_groups[-1]], "fixed": fixed},
        "levels": levels,
        "hospitals": {h: {"coefficient": _coefficient(rng, s.edgy),
                          "assessment": rng.choice(["0.957", "0.995", "1", "0.98"]),
                          "deductions": f"{rng.randint(0, 4_000_000) / 100:.2f}"}
                      for h in rng.sample(hospitals, max(1, len(hospitals) // 3))},
        "low_ratio": rng.choice(["0.4", "0.5"]),
        "special_cases": {"approved": sorted(rng.sample(case_ids, n_special)), "cap_share": cap_share},
        "advance_share": rng.choice(["0.9", "0.85", "0.925"]),
    }
    if s.method == "points":
        p |= {"high_bands": [{"up_to": "100", "k": "3"}, {"up_to": "300", "k": "2"}, {"k": "1.5"}]
              if s.scale == 100 else [{"k": "2"}],
              "readmission_days": s.readmission_days, "budget": f"{len(case_ids) * 14_000}.{rng.randint(0, 99):02d}",
              "adjustment_share": "0.05", "provisional_point_value": rng.choice(["272.6753", "18.5", "0.125"])}
    else:
        p["rates"] = {"fixed": {"1": "25000.55"} if s.edgy else {}, "adjust": rng.choice(["0.98", "1", "1.025"])}
    return p


def generate(s: Scenario, out: Path) -> Path:
    """Write the three input files of ``s`` into ``out``; returns ``out``."""
    rng = random.Random(s.seed)
    out.mkdir(parents=True, exist_ok=True)
    groups = _groups(rng, s)
    hospitals = [f"H3307{i:07d}" for i in rng.sample(range(10**6), s.hospitals)]
    level_of = {h: rng.choice([1, 2, 3, 3]) for h in hospitals}
    with (out / "history.jsonl").open("w") as f:
        for i in range(s.history):
            g, mean = _pick(rng, groups)
            h = rng.choice(hospitals)
            year = rng.choice([*YEARS, 2022] if i % 50 == 0 else YEARS)
            cost = _money(rng, mean * (1 if s.edgy else 0.8 + 0.1 * level_of[h]), s.edgy)
            f.write(json.dumps({"case_id": f"B{i:07d}", "hospital": h, "level": level_of[h],
                                "dscg_date": _date(rng, year).isoformat(), "group": g, "total_cost": cost}) + "\n")
    persons = s.persons or max(1, int(s.cases / 1.5))
    case_ids: list[str] = []
    with (out / "cases.jsonl").open("w") as f:
        previous: dict[str, Any] | None = None
        for i in range(s.cases):
            case_id = f"S{i:07d}"
            case_ids.append(case_id)
            if previous is not None and rng.random() < (0.25 if s.edgy else 0.03):
                row = _readmission(rng, previous, case_id, s)
            else:
                g, mean = _pick(rng, groups)
                h = rng.choice(hospitals)
                adm = _date(rng, SETTLEMENT_YEAR)
                dscg = min(adm + dt.timedelta(days=rng.randint(0, 20)), dt.date(SETTLEMENT_YEAR, 12, 31))
                row = {"case_id": case_id, "hospital": h,
                       "level": level_of[h] if rng.random() < 0.7 else str(level_of[h]),
                       "psn_no": f"P{rng.randrange(persons):09d}", "adm_date": adm.isoformat(),
                       "dscg_date": dscg.isoformat(), "group": g}
                row |= _payments(rng, _money(rng, mean * (1 if s.edgy else 0.8 + 0.1 * level_of[h]), s.edgy))
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            previous = row
    p = params(rng, s, groups, hospitals, case_ids)
    (out / "params.json").write_text(json.dumps(p, indent=1))
    return out


def _payments(rng: random.Random, total: str) -> dict[str, str]:
    fen = int(Decimal(total) * 100)
    fund = int(fen * rng.uniform(0.55, 0.85))
    return {"total_cost": total, "fund_paid": f"{fund // 100}.{fund % 100:02d}",
            "personal_paid": f"{(fen - fund) // 100}.{(fen - fund) % 100:02d}"}


def _readmission(rng: random.Random, previous: dict[str, Any], case_id: str, s: Scenario) -> dict[str, Any]:
    """The same person back at the same hospital, a few days after (or on) the previous discharge."""
    gap = rng.choice([0, 1, s.readmission_days, s.readmission_days + 1, -1, 7])
    dscg = dt.date.fromisoformat(previous["dscg_date"])
    adm = max(dscg + dt.timedelta(days=gap), dt.date.fromisoformat(previous["adm_date"]))
    adm = min(adm, dt.date(SETTLEMENT_YEAR, 12, 31))
    row = dict(previous, case_id=case_id, adm_date=adm.isoformat(),
               dscg_date=min(adm + dt.timedelta(days=rng.randint(0, 5)), dt.date(SETTLEMENT_YEAR, 12, 31)).isoformat())
    return row | _payments(rng, _money(rng, 12_000, s.edgy))
