"""Run the indicators as the command does (files in, CSV text out), and read a CSV into cells."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from services.evaluation.adapters.indicators.files import (
    indicators_csv,
    read_cases,
    read_cases_by_line,
    read_weights,
)
from services.evaluation.domain.indicators.compute import compute_indicators


def write_inputs(folder: Path, cases: list[dict[str, Any]], weights: dict[str, str]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cases_file, weights_file = folder / "cases.jsonl", folder / "weights.csv"
    cases_file.write_bytes(b"".join(orjson.dumps(case) + b"\n" for case in cases))
    weights_file.write_text("group,kept_cases,avg_cost,rw,source\n" +
                            "".join(f"{g},1,1.00,{rw},data\n" for g, rw in weights.items()))
    return cases_file, weights_file


def computed(folder: Path, cases: list[dict[str, Any]], weights: dict[str, str], *, by_line: bool = False) -> str:
    cases_file, weights_file = write_inputs(folder, cases, weights)
    table = read_cases_by_line(cases_file, cases_file.read_bytes()) if by_line else read_cases(cases_file)
    return "".join(indicators_csv(compute_indicators(table, read_weights(weights_file)).rows))


def cells(text: str) -> dict[tuple[str, str], dict[str, str]]:
    return {(row["level"], row["unit"]): row for row in csv.DictReader(io.StringIO(text))}


def case(case_id: str, *, hospital: str = "H1", dept: str = "A", doctor: str = "D1", person: str = "P1",
         group: str = "G1", adm: str = "2026-01-01", dscg: str = "2026-01-02", los: int = 1,
         cost: str = "100.00", way: str = "1") -> dict[str, Any]:
    return {"case_id": case_id, "hospital": hospital, "level": 3, "dept": dept, "doctor": doctor, "psn_no": person,
            "group": group, "adm_date": adm, "dscg_date": dscg, "los": los, "total_cost": cost,
            "fund_paid": "0.00", "dscg_way": way}
