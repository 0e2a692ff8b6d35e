"""The synthetic prefecture, checked statistically against its parameters and against the grouping engine."""

from __future__ import annotations

import inspect
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from services.coding.domain.shapes import shape_problem
from services.grouping.adapters.scheme_files import load_code_tables
from services.grouping.domain.engine import group_case
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import divisions, load_reference

from ...support import case_of, reference_dir

N = 20_000


def scheme_id() -> str:
    return "chs-drg-1.1" if (reference_dir() / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"


@cache
def generated() -> tuple[SynthParams, list[tuple[dict[str, Any], dict[str, Any]]], Any]:
    params = SynthParams(cases=N, seed=11, scheme=scheme_id())
    ref, _ = load_reference(params, reference_dir())
    return params, list(Generator(params, ref).lists()), ref


def lists() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return generated()[1]


def clean() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(r, t) for r, t in lists() if not t["faults"]]


def yuan(value: str) -> Decimal:
    return Decimal(value)


def test_exactly_the_requested_number_of_lists_streamed_month_by_month() -> None:
    params, rows, ref = generated()
    assert inspect.isgenerator(Generator(params, ref).lists())
    assert len(rows) == N
    months = Counter(t["month"] for _, t in rows)
    assert len(months) == 12 and min(months.values()) > N / 12 * 0.8


def test_fees_add_up_to_the_fen_and_match_what_was_paid() -> None:
    for request, truth in lists():
        body = request["input"]
        items = body["iteminfo"]
        for item in items:
            parts = sum(yuan(item[k]) for k in ("claa_sumfee", "clab_amt", "fulamt_ownpay_amt", "oth_amt"))
            assert yuan(item["amt"]) == parts
        fees = sum(yuan(i["amt"]) for i in items)
        paid = sum(yuan(p["fund_payamt"]) for p in body["payinfo"]) + yuan(body["setlinfo"]["acct_pay"]) + \
            yuan(body["setlinfo"]["psn_cashpay"])
        assert paid == yuan(truth["total"])
        assert (fees != paid) == ("FEE_SUM_MISMATCH" in truth["faults"]), truth["setl_id"]


def test_fund_pays_sixty_to_eighty_percent() -> None:
    for request, truth in lists()[:5000]:
        fund = sum(yuan(p["fund_payamt"]) for p in request["input"]["payinfo"])
        share = fund / yuan(truth["total"])
        assert Decimal("0.59") <= share <= Decimal("0.81")


def eligible(fault: str, truth: dict[str, Any]) -> bool:
    if fault == "PREGNANCY_CODE_ON_MALE":
        return truth["sex"] == 1
    if fault == "NEWBORN_WITHOUT_WEIGHT":
        return truth["birth_weight_g"] is not None
    if fault == "TRANSFER_WITHOUT_RECEIVER":
        return truth["discharge_way"] in ("2", "3")
    return True


def test_fault_shares_are_within_tolerance_of_their_rates() -> None:
    params = generated()[0]
    for fault, rate in params.faults.as_dict().items():
        pool = [t for _, t in lists() if eligible(fault, t)]
        if len(pool) < 50:
            continue
        hits = sum(fault in t["faults"] for t in pool)
        sd = math.sqrt(len(pool) * rate * (1 - rate))
        assert abs(hits - len(pool) * rate) <= 4 * sd + 3, (fault, hits, len(pool), rate)


def test_cost_cv_per_common_group_is_in_the_configured_band() -> None:
    costs: dict[tuple[str, int], list[float]] = defaultdict(list)
    for _, t in clean():
        if not t["outlier"] and not t["behaviours"]:
            costs[(t["intended_drg"], t["hospital_level"])].append(float(t["total"]))
    common = {k: v for k, v in costs.items() if len(v) >= 150}
    assert common, "no common group"
    for key, values in common.items():
        cv = statistics.pstdev(values) / statistics.mean(values)
        assert 0.45 <= cv <= 0.8, (key, cv)


def test_outlier_shares_match_their_rates() -> None:
    params = generated()[0]
    kinds = Counter(t["outlier"] for _, t in lists() if "LOW_STANDARD_ADMISSION" not in t["behaviours"])
    assert abs(kinds["high"] / N - params.high_outlier_rate) < 0.006
    assert abs(kinds["low"] / N - params.low_outlier_rate) < 0.008


def test_length_of_stay_rises_with_cost() -> None:
    pairs = [(math.log(float(t["total"])), t["los_days"]) for _, t in clean() if t["age_days"] is None]
    assert statistics.correlation([c for c, _ in pairs], [d for _, d in pairs]) > 0.3


def test_case_mix_is_skewed_with_a_long_tail() -> None:
    counts = Counter(t["intended_drg"] for _, t in lists())
    top10 = sum(n for _, n in counts.most_common(10))
    assert top10 / N > 0.3
    if scheme_id() == "chs-drg-1.1":
        assert len(counts) > 250


def test_every_clean_list_groups_to_its_intended_drg() -> None:
    """The lists, read back as the platform will read them, reach the DRG the generator meant."""
    scheme = generated()[2].catalogue.scheme
    codes = load_code_tables(reference_dir())
    wrong = []
    for request, truth in clean():
        case = case_of(request["input"])
        plain, checked = group_case(scheme, case), group_case(scheme, case, codes=codes)
        if plain.drg != truth["intended_drg"] or checked.drg != truth["intended_drg"]:
            wrong.append((truth["setl_id"], truth["intended_drg"], plain.drg, checked.status.value))
    assert not wrong, wrong[:10]


def test_all_codes_are_well_formed_except_injected_faults() -> None:
    counties, cities = divisions(reference_dir())
    known = {c for c, _, _ in counties} | {c.ljust(6, "0") for c in cities}
    for request, truth in lists():
        body = request["input"]
        bad = [d["diag_code"] for d in body["diseinfo"] if shape_problem("icd10-chs", d["diag_code"], known)]
        bad += [o["oprn_oprt_code"] for o in body["oprninfo"] if shape_problem("icd9cm3-chs", o["oprn_oprt_code"],
                                                                                 known)]
        assert len(bad) == ("MALFORMED_CODE" in truth["faults"]), (truth["setl_id"], bad)
        assert not shape_problem("institution", request["fixmedins_code"], known)
        assert not shape_problem("doctor", body["setlinfo"]["chfpdr_code"], known)
        assert len(request["msgid"]) == 30 and request["msgid"].startswith(request["fixmedins_code"])


def test_principal_first_with_flags() -> None:
    for request, _ in lists()[:2000]:
        dx, px = request["input"]["diseinfo"], request["input"]["oprninfo"]
        assert [d["maindiag_flag"] for d in dx] == ["1"] + ["0"] * (len(dx) - 1)
        assert [p["oprn_oprt_type"] for p in px] == (["1"] + ["2"] * (len(px) - 1) if px else [])


def test_people_keep_their_sex_and_birth_date_and_ages_are_consistent() -> None:
    seen: dict[str, tuple[str, str]] = {}
    returning = 0
    for request, truth in lists():
        s = request["input"]["setlinfo"]
        if s["psn_no"] in seen:
            returning += 1
            assert seen[s["psn_no"]] == (s["gend"], s["brdy"])
        seen[s["psn_no"]] = (s["gend"], s["brdy"])
        if "DISCHARGE_BEFORE_ADMISSION" in truth["faults"]:
            continue
        admitted = datetime.strptime(s["adm_time"], "%Y-%m-%d %H:%M:%S").date()
        born = date.fromisoformat(s["brdy"])
        years = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
        assert s["age"] == years
        if years == 0:
            assert s["nwb_age"] == (admitted - born).days
    assert returning > N * 0.1


def test_dates_are_consistent_on_clean_lists() -> None:
    for request, truth in clean():
        s = request["input"]["setlinfo"]
        admitted = datetime.strptime(s["adm_time"], "%Y-%m-%d %H:%M:%S")
        discharged = datetime.strptime(s["dscg_time"], "%Y-%m-%d %H:%M:%S")
        assert admitted < discharged
        assert max((discharged.date() - admitted.date()).days, 1) == truth["los_days"] == s["act_ipt_days"]
        if s["dscg_way"] in ("2", "3"):
            assert s["acp_optins_code"]


def test_mcc_share_rises_with_hospital_level_and_deaths_concentrate_in_mcc_groups() -> None:
    by_level: dict[int, list[bool]] = defaultdict(list)
    deaths: dict[bool, list[bool]] = defaultdict(list)
    for _, t in lists():
        mcc = t["intended_drg"].endswith("1")
        by_level[t["hospital_level"]].append(mcc)
        deaths[mcc].append(t["discharge_way"] == "5")
    share = {level: sum(v) / len(v) for level, v in by_level.items() if len(v) > 500}
    assert share[3] > share[2] or share[3] > share.get(1, 0)
    assert sum(deaths[True]) / len(deaths[True]) > 2 * sum(deaths[False]) / len(deaths[False])


def test_split_admissions_are_the_same_person_back_within_fifteen_days() -> None:
    by_setl = {t["setl_id"]: (r, t) for r, t in lists()}
    splits = [(r, t) for r, t in lists() if "SPLIT_ADMISSION" in t["behaviours"]]
    assert len(splits) > N * generated()[0].split_admission_rate * 0.5
    for request, truth in splits:
        first_request, first = by_setl[truth["related_setl_id"]]
        assert first["psn_no"] == truth["psn_no"]
        out = datetime.strptime(first_request["input"]["setlinfo"]["dscg_time"], "%Y-%m-%d %H:%M:%S")
        back = datetime.strptime(request["input"]["setlinfo"]["adm_time"], "%Y-%m-%d %H:%M:%S")
        assert 0 < (back.date() - out.date()).days <= 15
        assert truth["intended_adrg"] == first["intended_adrg"]


def test_upcoding_happens_only_at_aggressive_hospitals() -> None:
    _, rows, ref = generated()
    aggressive = {h.code for h in ref.hospitals if h.aggressive}
    upcoded = [t for _, t in rows if "UPCODED" in t["behaviours"]]
    assert upcoded and {t["fixmedins_code"] for t in upcoded} <= aggressive
    assert all(t["intended_drg"].endswith("1") and t["honest_drg"].endswith("5") for t in upcoded)


def test_low_standard_admissions_are_short_and_cheap() -> None:
    low = [t for _, t in lists() if "LOW_STANDARD_ADMISSION" in t["behaviours"]]
    assert len(low) > 20
    assert all(t["los_days"] <= 2 and t["outlier"] == "low" for t in low)


def test_newborns_carry_age_in_days_and_weight_in_either_dialect() -> None:
    newborns = [(r, t) for r, t in lists() if t["age_days"] is not None and t["age_days"] <= 28]
    assert newborns
    spellings = Counter()
    for request, truth in newborns:
        s = request["input"]["setlinfo"]
        weight = s.get("nwb_bir_wt", s.get("nwbbirwt"))
        spellings["nwbbirwt" if "nwbbirwt" in s else "nwb_bir_wt"] += 1
        assert (weight is None) == ("NEWBORN_WITHOUT_WEIGHT" in truth["faults"])
        assert s["nwb_age"] == truth["age_days"]


@pytest.mark.parametrize("region", ["330000", "999900", "33070", "330702"])
def test_bad_region_is_refused_with_a_reason(region: str) -> None:
    from services.synth.region import RegionError

    with pytest.raises(RegionError):
        load_reference(SynthParams(region=region, cases=1, scheme=scheme_id()), reference_dir())
