"""Synthetic settlement lists for the collection tests (a small prefecture month), and how to post them."""

from __future__ import annotations

import asyncio
import copy
from functools import cache
from typing import Any

import httpx

from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from ..support import reference_dir

# The QC rule each injected fault must trip.
FAULT_RULES = {"UNKNOWN_CODE": "QC-DX-002", "MALFORMED_CODE": "QC-DX-002", "PREGNANCY_CODE_ON_MALE": "QC-SEX-001",
               "NEWBORN_WITHOUT_WEIGHT": "QC-NB-002", "DISCHARGE_BEFORE_ADMISSION": "QC-DT-002",
               "FEE_SUM_MISMATCH": "QC-FEE-001", "TRANSFER_WITHOUT_RECEIVER": "QC-TR-001"}


def scheme_id() -> str:
    return "chs-drg-1.1" if (reference_dir() / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"


@cache
def month(seed: int, cases: int) -> tuple[tuple[dict[str, Any], dict[str, Any]], ...]:
    """(request, truth) pairs of one month at 8 hospitals; fault rates raised so every fault shows up."""
    # Rich lists (patient fields, iteminfo, payinfo) until collection joins settlement records to HIS-form lists.
    params = SynthParams(cases=cases, months=1, hospitals=8, seed=seed, scheme=scheme_id(), rich_lists=True)
    faults = params.faults.__class__(**{k: min(1.0, v * 8) for k, v in params.faults.as_dict().items()})
    params = SynthParams(cases=cases, months=1, hospitals=8, seed=seed, scheme=scheme_id(), faults=faults,
                         rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    return tuple(Generator(params, ref).lists())


def fresh(seed: int, cases: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(copy.deepcopy(r), t) for r, t in month(seed, cases)]


def own_ids(requests: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The same lists under stay ids no other test uses: synth numbers stays from 1 in every run, so two tests
    sharing a database would otherwise meet each other's lists and records."""
    for request in requests:
        s = request["input"]["setlinfo"]
        s["mdtrt_id"], s["setl_id"] = f"{tag}{s['mdtrt_id']}", f"{tag}{s['setl_id']}"
    return requests


async def post_all(base: str, requests: list[dict[str, Any]], concurrency: int = 16,
                   headers: Any = None) -> list[dict[str, Any]]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as client:
        async def one(request: dict[str, Any]) -> dict[str, Any]:
            async with limit:
                reply = await client.post(f"{base}/{request['infno']}", json=request,
                                          headers=headers(request) if headers else None)
                body: dict[str, Any] = reply.json()
                return body

        return list(await asyncio.gather(*(one(r) for r in requests)))


def details_of(request: dict[str, Any], lines_per_category: int = 3) -> list[dict[str, Any]]:
    """Fee lines (2301) of a list's stay summing exactly to its fee categories: each category split into a few
    lines."""
    s = request["input"]["setlinfo"]
    out = []
    for item in request["input"]["iteminfo"]:
        whole, _, cents = item["amt"].partition(".")
        fen = int(whole) * 100 + int(cents)
        parts = [fen // lines_per_category] * lines_per_category
        parts[-1] += fen - sum(parts)
        for part in parts:
            money = f"{part // 100}.{part % 100:02d}"
            out.append({"feedetl_sn": str(len(out) + 1), "mdtrt_id": s["mdtrt_id"], "psn_no": s["psn_no"],
                        "med_type": "21", "fee_ocur_time": s["adm_time"], "med_list_codg": "001102000010000",
                        "medins_list_codg": "", "med_chrgitm_type": item["med_chrgitm"], "cnt": "1",
                        "pric": money, "det_item_fee_sumamt": money,
                        "bilg_dept_codg": "A03", "bilg_dr_codg": s["chfpdr_code"]})
    return out

