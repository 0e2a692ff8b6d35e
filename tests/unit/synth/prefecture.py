"""Generated prefectures shared by the synth tests (one per list form, made once per session)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from services.grouping.domain.case import Case
from services.synth.generator import Generator, Reference
from services.synth.params import SynthParams
from services.synth.sources import load_reference
from services.synth.writer import emissions

from ...support import reference_dir

N = 20_000

Pair = tuple[dict[str, Any], dict[str, Any]]


def scheme_id() -> str:
    return "chs-drg-1.1" if (reference_dir() / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"


@dataclass(frozen=True)
class Run:
    params: SynthParams
    ref: Reference
    lists: list[Pair]          # (request, truth), file order
    records: list[dict[str, Any]]  # settlement_records.jsonl, file order
    fees: list[dict[str, Any]]     # fee_details.jsonl (2301 requests), file order

    def final_records(self) -> dict[str, dict[str, Any]]:
        """The last 2304 of every setl_id (what the record says once all revisions are in)."""
        return {r["setlinfo"]["setl_id"]: r for r in self.records if r["infno"] == "2304"}

    def clean(self) -> list[Pair]:
        return [(r, t) for r, t in self.lists if not t["faults"]]


def run_of(params: SynthParams) -> Run:
    ref, _ = load_reference(params, reference_dir())
    lists: list[Pair] = []
    records: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    for kind, line, fact in emissions(Generator(params, ref), fees=True):
        if kind == "fees":
            fees.append(line)
        elif fact is None:
            records.append(line)
        else:
            lists.append((line, fact))
    return Run(params, ref, lists, records, fees)


@cache
def his_run() -> Run:
    return run_of(SynthParams(cases=N, seed=11, scheme=scheme_id()))


@cache
def rich_run() -> Run:
    return run_of(SynthParams(cases=4_000, seed=12, scheme=scheme_id(), rich_lists=True))


def spec_fields(name: str, column: str = "field") -> list[str]:
    """A field list of ../shared/spec (the full reference material), or [] where it is absent."""
    path = reference_dir() / "spec" / name
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]


def joined_case(request: dict[str, Any], record: dict[str, Any]) -> Case:
    """The grouping case of a HIS-form list joined to its settlement record (demographics from the record),
    read independently of collection's code."""
    s, r = request["input"]["setlinfo"], record["setlinfo"]
    admitted = datetime.strptime(s["adm_time"], "%Y-%m-%d %H:%M:%S")
    discharged = datetime.strptime(s["dscg_time"], "%Y-%m-%d %H:%M:%S")
    years = int(r["age"])
    weight = s.get("nwb_bir_wt", s.get("nwbbirwt"))
    dx = sorted(request["input"]["diseinfo"], key=lambda d: d["maindiag_flag"] != "1")
    px = sorted(request["input"]["oprninfo"], key=lambda p: p["oprn_oprt_type"] != "1")
    return Case(dx=tuple(d["diag_code"] for d in dx), px=tuple(p["oprn_oprt_code"] for p in px),
                sex=int(r["gend"]), age_years=years,
                age_days=(admitted.date() - date.fromisoformat(r["brdy"])).days if years == 0 else None,
                birth_weight_g=int(weight) if weight else None,
                los_days=max((discharged.date() - admitted.date()).days, 1), discharge_type=s["dscg_way"])
