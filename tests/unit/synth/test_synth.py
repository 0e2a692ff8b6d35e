"""The synthetic prefecture, checked statistically against its parameters and against the grouping engine."""

from __future__ import annotations

import inspect
import itertools
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.coding.domain.shapes import shape_problem
from services.grouping.adapters.scheme_files import load_code_tables
from services.grouping.domain.engine import group_case
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import divisions, load_reference

from ...support import reference_dir
from .prefecture import N, his_run, joined_case, rich_run, run_of, scheme_id


def test_exactly_the_requested_number_of_lists_streamed_day_by_day() -> None:
    run = his_run()
    assert inspect.isgenerator(Generator(run.params, run.ref).stays())
    assert len(run.lists) == N
    months = Counter(t["month"] for _, t in run.lists)
    assert len(months) == 12 and min(months.values()) > N / 12 * 0.8
    days = [r["input"]["setlinfo"]["setl_end_date"][:10] for r, _ in run.lists]
    assert days == sorted(days)  # discharge-day order
    weekdays = Counter(date.fromisoformat(d).weekday() for d in days)
    assert weekdays[6] < 0.7 * weekdays[1]  # fewer discharges on Sundays


def test_a_period_of_several_years_spans_them_all() -> None:
    run = run_of(SynthParams(cases=1_200, seed=3, scheme=scheme_id(), year=2022, first_month=7, months=30,
                             hospitals=4))
    months = Counter(t["month"] for _, t in run.lists)
    assert len(run.lists) == 1_200
    assert min(months) == "2022-07" and max(months) == "2024-12" and len(months) == 30
    last = datetime(2024, 12, 31, 23, 59, 59)
    for request, _ in run.lists:
        assert datetime.strptime(request["inf_time"], "%Y-%m-%d %H:%M:%S") <= last
    for record in run.records:
        if record["infno"] == "2304":
            assert datetime.strptime(record["setlinfo"]["setl_time"], "%Y-%m-%d %H:%M:%S") <= last


def eligible(fault: str, truth: dict[str, Any], rich: bool) -> bool:
    if fault == "PREGNANCY_CODE_ON_MALE":
        return truth["sex"] == 1
    if fault == "NEWBORN_WITHOUT_WEIGHT":
        return truth["birth_weight_g"] is not None
    if fault == "TRANSFER_WITHOUT_RECEIVER":
        return truth["discharge_way"] in ("2", "3")
    if fault == "FEE_SUM_MISMATCH":
        return rich
    return True


@pytest.mark.parametrize("rich", [False, True])
def test_fault_shares_are_within_tolerance_of_their_rates(rich: bool) -> None:
    run = rich_run() if rich else his_run()
    for fault, rate in run.params.faults.as_dict().items():
        pool = [t for _, t in run.lists if eligible(fault, t, rich)]
        hits = sum(fault in t["faults"] for _, t in run.lists)
        if not eligible(fault, {"sex": 1, "birth_weight_g": 1, "discharge_way": "2"}, rich):
            assert hits == 0, fault
        if len(pool) < 50:
            continue
        sd = math.sqrt(len(pool) * rate * (1 - rate))
        assert abs(hits - len(pool) * rate) <= 4 * sd + 3, (fault, hits, len(pool), rate)


def test_cost_cv_per_common_group_is_in_the_configured_band() -> None:
    costs: dict[tuple[str, int], list[float]] = defaultdict(list)
    for _, t in his_run().clean():
        if not t["outlier"] and not t["behaviours"]:
            costs[(t["intended_drg"], t["hospital_level"])].append(float(t["total"]))
    common = {k: v for k, v in costs.items() if len(v) >= 150}
    assert common, "no common group"
    for key, values in common.items():
        cv = statistics.pstdev(values) / statistics.mean(values)
        assert 0.45 <= cv <= 0.8, (key, cv)


def test_outlier_shares_match_their_rates() -> None:
    run = his_run()
    kinds = Counter(t["outlier"] for _, t in run.lists if "LOW_STANDARD_ADMISSION" not in t["behaviours"])
    assert abs(kinds["high"] / N - run.params.high_outlier_rate) < 0.006
    assert abs(kinds["low"] / N - run.params.low_outlier_rate) < 0.008


def test_length_of_stay_rises_with_cost() -> None:
    pairs = [(math.log(float(t["total"])), t["los_days"]) for _, t in his_run().clean() if t["age_days"] is None]
    assert statistics.correlation([c for c, _ in pairs], [d for _, d in pairs]) > 0.3


def test_case_mix_is_skewed_with_a_long_tail() -> None:
    """A prefecture's top ten DRGs hold about a fifth to a third of its cases (the rest is a long tail; the
    proportions themselves are checked in test_case_mix.py)."""
    counts = Counter(t["intended_drg"] for _, t in his_run().lists)
    top10 = sum(n for _, n in counts.most_common(10))
    assert 0.15 < top10 / N < 0.45
    if scheme_id() == "chs-drg-1.1":
        assert len(counts) > 250


def test_every_clean_list_joined_to_its_record_groups_to_its_intended_drg() -> None:
    """The HIS-form lists, joined to their settlement records as the platform joins them, reach the DRG the
    generator meant."""
    run = his_run()
    scheme = run.ref.catalogue.scheme
    codes = load_code_tables(reference_dir())
    records = run.final_records()
    wrong = []
    for request, truth in run.clean():
        case = joined_case(request, records[truth["setl_id"]])
        plain, checked = group_case(scheme, case), group_case(scheme, case, codes=codes)
        if plain.drg != truth["intended_drg"] or checked.drg != truth["intended_drg"]:
            wrong.append((truth["setl_id"], truth["intended_drg"], plain.drg, checked.status.value))
    assert not wrong, wrong[:10]


def test_rich_clean_lists_group_to_their_intended_drg_as_collection_reads_them() -> None:
    from ...support import case_of

    run = rich_run()
    scheme = run.ref.catalogue.scheme
    wrong = [(t["setl_id"], t["intended_drg"]) for r, t in run.clean()
             if group_case(scheme, case_of(r["input"])).drg != t["intended_drg"]]
    assert not wrong, wrong[:10]


def test_all_codes_are_well_formed_except_injected_faults() -> None:
    counties, cities = divisions(reference_dir())
    known = {c for c, _, _ in counties} | {c.ljust(6, "0") for c in cities}
    for request, truth in his_run().lists:
        body = request["input"]
        bad = [d["diag_code"] for d in body["diseinfo"] if shape_problem("icd10-chs", d["diag_code"], known)]
        bad += [o["oprn_oprt_code"] for o in body["oprninfo"] if shape_problem("icd9cm3-chs", o["oprn_oprt_code"],
                                                                                 known)]
        assert len(bad) == ("MALFORMED_CODE" in truth["faults"]), (truth["setl_id"], bad)
        assert not shape_problem("institution", request["fixmedins_code"], known)
        assert not shape_problem("doctor", body["setlinfo"]["chfpdr_code"], known)
        assert len(request["msgid"]) == 30 and request["msgid"].startswith(request["fixmedins_code"])


def test_principal_first_with_flags() -> None:
    for request, _ in his_run().lists[:2000]:
        dx, px = request["input"]["diseinfo"], request["input"]["oprninfo"]
        assert [d["maindiag_flag"] for d in dx] == ["1"] + ["0"] * (len(dx) - 1)
        assert [p["oprn_oprt_type"] for p in px] == (["1"] + ["2"] * (len(px) - 1) if px else [])


def test_dates_are_consistent_on_clean_lists() -> None:
    for request, truth in his_run().clean():
        s = request["input"]["setlinfo"]
        admitted = datetime.strptime(s["adm_time"], "%Y-%m-%d %H:%M:%S")
        discharged = datetime.strptime(s["dscg_time"], "%Y-%m-%d %H:%M:%S")
        assert admitted < discharged
        assert max((discharged.date() - admitted.date()).days, 1) == truth["los_days"]
        assert datetime.strptime(request["inf_time"], "%Y-%m-%d %H:%M:%S") > discharged
        if s["dscg_way"] in ("2", "3"):
            assert s.get("acp_optins_code", s.get("acp_medins_code"))


def test_a_person_is_never_in_two_stays_at_once_nor_back_within_fifteen_days_unplanned() -> None:
    stays: dict[str, list[tuple[date, date, dict[str, Any]]]] = defaultdict(list)
    for request, truth in his_run().lists:
        if "DISCHARGE_BEFORE_ADMISSION" in truth["faults"]:
            continue
        s = request["input"]["setlinfo"]
        stays[s["psn_no"]].append((date.fromisoformat(s["adm_time"][:10]), date.fromisoformat(s["dscg_time"][:10]),
                                   truth))
    returning = 0
    for visits in stays.values():
        visits.sort(key=lambda v: v[0])
        returning += len(visits) - 1
        for (_, out, first), (back, _, then) in itertools.pairwise(visits):
            planned = then["related_setl_id"] == first["setl_id"]
            assert back > out and (planned or (back - out).days > 15), (first["setl_id"], then["setl_id"])
    assert returning > N * 0.1


def test_mcc_share_rises_with_hospital_level_and_deaths_concentrate_in_mcc_groups() -> None:
    by_level: dict[int, list[bool]] = defaultdict(list)
    deaths: dict[bool, list[bool]] = defaultdict(list)
    for _, t in his_run().lists:
        mcc = t["intended_drg"].endswith("1")
        by_level[t["hospital_level"]].append(mcc)
        deaths[mcc].append(t["discharge_way"] == "5")
    share = {level: sum(v) / len(v) for level, v in by_level.items() if len(v) > 500}
    assert share[3] > share[2] or share[3] > share.get(1, 0)
    assert sum(deaths[True]) / len(deaths[True]) > 2 * sum(deaths[False]) / len(deaths[False])


def test_split_admissions_are_the_same_person_back_within_fifteen_days() -> None:
    run = his_run()
    by_setl = {t["setl_id"]: (r, t) for r, t in run.lists}
    splits = [(r, t) for r, t in run.lists if "SPLIT_ADMISSION" in t["behaviours"]]
    assert len(splits) > N * run.params.split_admission_rate * 0.5
    for request, truth in splits:
        first_request, first = by_setl[truth["related_setl_id"]]
        assert first["psn_no"] == truth["psn_no"] and first["related_setl_id"] == truth["setl_id"]
        assert first["split_role"] == "index" and truth["split_role"] == "readmission"
        if "DISCHARGE_BEFORE_ADMISSION" in first["faults"] + truth["faults"]:
            continue
        out = datetime.strptime(first_request["input"]["setlinfo"]["dscg_time"], "%Y-%m-%d %H:%M:%S")
        back = datetime.strptime(request["input"]["setlinfo"]["adm_time"], "%Y-%m-%d %H:%M:%S")
        assert 0 < (back.date() - out.date()).days <= 15
        assert truth["intended_adrg"] == first["intended_adrg"]
    assert sum(t["split_role"] == "index" for _, t in run.lists) == len(splits)


def test_upcoding_happens_only_at_aggressive_hospitals() -> None:
    run = his_run()
    aggressive = {h.code for h in run.ref.hospitals if h.aggressive}
    upcoded = [t for _, t in run.lists if "UPCODED" in t["behaviours"]]
    assert upcoded and {t["fixmedins_code"] for t in upcoded} <= aggressive
    assert all(t["intended_drg"].endswith("1") and t["honest_drg"].endswith("5") for t in upcoded)


def test_low_standard_admissions_are_short_and_cheap() -> None:
    low = [t for _, t in his_run().lists if "LOW_STANDARD_ADMISSION" in t["behaviours"]]
    assert len(low) > 20
    assert all(t["los_days"] <= 2 and t["outlier"] == "low" for t in low)


def test_newborns_carry_their_weight_in_either_spelling_and_their_age_comes_from_the_record() -> None:
    run = his_run()
    records = run.final_records()
    newborns = [(r, t) for r, t in run.lists if t["age_days"] is not None and t["age_days"] <= 28]
    assert newborns
    spellings: Counter[str] = Counter()
    for request, truth in newborns:
        s = request["input"]["setlinfo"]
        key = "nwbbirwt" if "nwbbirwt" in s else "nwb_bir_wt"
        spellings[key] += 1
        assert (s[key] in (None, "")) == ("NEWBORN_WITHOUT_WEIGHT" in truth["faults"])
        if s[key]:
            assert int(s[key]) == truth["birth_weight_g"] and int(s[key]) % 10 == 0
        if truth["record_story"] != "REVISED_DEMOGRAPHICS" and "DISCHARGE_BEFORE_ADMISSION" not in truth["faults"]:
            born = date.fromisoformat(records[truth["setl_id"]]["setlinfo"]["brdy"])  # (that fault moves adm_time)
            assert (date.fromisoformat(s["adm_time"][:10]) - born).days == truth["age_days"]
    assert set(spellings) == {"nwbbirwt", "nwb_bir_wt"}


def test_rich_lists_add_up_to_the_fen_and_match_their_records() -> None:
    run = rich_run()
    records = run.final_records()
    for request, truth in run.lists:
        body = request["input"]
        for item in body["iteminfo"]:
            parts = sum(Decimal(item[k]) for k in ("claa_sumfee", "clab_amt", "fulamt_ownpay_amt", "oth_amt"))
            assert Decimal(item["amt"]) == parts
        fees = sum(Decimal(i["amt"]) for i in body["iteminfo"])
        record = records[truth["setl_id"]]
        fund = sum(Decimal(p["fund_payamt"]) for p in body["payinfo"])
        assert fund == Decimal(record["setlinfo"]["fund_pay_sumamt"])
        paid = fund + Decimal(body["setlinfo"]["acct_pay"]) + Decimal(body["setlinfo"]["psn_cashpay"])
        assert paid == Decimal(truth["total"]) == Decimal(record["setlinfo"]["medfee_sumamt"])
        assert (fees != paid) == ("FEE_SUM_MISMATCH" in truth["faults"]), truth["setl_id"]
        s = body["setlinfo"]
        assert (s["psn_name"], s["gend"], s["brdy"]) == (record["setlinfo"]["psn_name"], record["setlinfo"]["gend"],
                                                         record["setlinfo"]["brdy"])


@pytest.mark.parametrize("region", ["330000", "999900", "33070", "330702"])
def test_bad_region_is_refused_with_a_reason(region: str) -> None:
    from services.synth.region import RegionError

    with pytest.raises(RegionError):
        load_reference(SynthParams(region=region, cases=1, scheme=scheme_id()), reference_dir())
