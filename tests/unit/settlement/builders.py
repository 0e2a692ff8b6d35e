"""Tiny hand-made settlement inputs written as FORMAT.md's files, and the outputs read back as dicts."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from services.settlement.service_layer.simulation import SimulationInputs, simulate

BASE = {"method": "points", "weights": {"years": [2025]}, "levels": {"3": {}}, "budget": "100000.00"}


def case(case_id: str, group: str, cost: str, *, hospital: str = "H1", level: Any = 3, psn: str | None = None,
         adm: str = "2026-03-01", dscg: str = "2026-03-05", fund: str | None = None,
         personal: str | None = None) -> dict[str, Any]:
    fund = fund if fund is not None else cost
    return {"case_id": case_id, "hospital": hospital, "level": level, "psn_no": psn or f"P-{case_id}",
            "adm_date": adm, "dscg_date": dscg, "group": group, "total_cost": cost, "fund_paid": fund,
            "personal_paid": personal if personal is not None else "0"}


def past(group: str, cost: str, *, year: int = 2025, level: Any = 3) -> dict[str, Any]:
    return {"group": group, "level": level, "dscg_date": f"{year}-06-01", "total_cost": cost}


# A1 costs 1000 and 3000 (avg 2000), B1 4000: avg_all = 8000/3, RW_A = 0.75, RW_B = 1.5, std 2000.00 / 4000.00.
SMALL_HISTORY = [past("A1", "1000"), past("A1", "3000"), past("B1", "4000")]


def write(folder: Path, cases: list[dict[str, Any]], history: list[dict[str, Any]],
          params: dict[str, Any]) -> SimulationInputs:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    (folder / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (folder / "params.json").write_text(json.dumps(params))
    return SimulationInputs(folder / "cases.jsonl", folder / "history.jsonl", folder / "params.json")


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row[next(iter(row))]: row for row in csv.DictReader(f)}


def run(tmp: Path, cases: list[dict[str, Any]], history: list[dict[str, Any]] | None = None,
        **params: Any) -> dict[str, Any]:
    """Simulate and read back: {"cases": {id: row}, "hospitals": {...}, "weights": {...}, "summary": {...}}."""
    merged = {**BASE, **params}
    inputs = write(tmp / "in", cases, SMALL_HISTORY if history is None else history, merged)
    simulate(inputs, tmp / "out")
    return {"cases": rows(tmp / "out" / "cases.csv"), "hospitals": rows(tmp / "out" / "hospitals.csv"),
            "weights": rows(tmp / "out" / "weights.csv"),
            "summary": json.loads((tmp / "out" / "summary.json").read_text())}
