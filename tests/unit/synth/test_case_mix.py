"""The synthetic prefecture looks like a real one: MDC shares, common medical DRGs on top, surgery by hospital
level, comorbidities by age and sex, deaths in the severe groups and the elderly, departments that match the
case, and plausible CMIs (services/synth/mix.py states the sources of the proportions)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest

from services.synth.mix import LOW_RISK_ADRGS, MATERNAL_YEARS, adrg_kind, department_of

from .prefecture import N, his_run, scheme_id

full_scheme = pytest.mark.skipif(scheme_id() != "chs-drg-1.1", reason="needs the full reference material "
                                 "(MEDPAY_REFERENCE_DIR): the bundled sample pack has only four MDCs")


def diagnoses(request: dict[str, Any]) -> list[str]:
    dx = sorted(request["input"]["diseinfo"], key=lambda d: d["maindiag_flag"] != "1")
    return [d["diag_code"] for d in dx]


@full_scheme
def test_mdc_shares_are_a_prefectures() -> None:
    shares = Counter(t["intended_mdc"] for _, t in his_run().lists)
    largest = [mdc for mdc, _ in shares.most_common(7)]
    assert {"E", "F", "G", "I", "O", "B"} <= set(largest), largest
    assert 0.08 < shares["E"] / N < 0.16 and 0.08 < shares["F"] / N < 0.16
    assert shares["A"] / N < 0.02 and shares["W"] / N < 0.01


@full_scheme
def test_common_medical_groups_lead() -> None:
    adrgs = Counter(t["intended_adrg"] for _, t in his_run().lists)
    top = [adrg for adrg, _ in adrgs.most_common(12)]
    for common in ("ES3", "BR2", "FR4", "OR1", "RE1"):  # pneumonia, cerebral infarction, coronary, delivery, chemo
        assert common in top, (common, top)
    assert adrgs["ES3"] > 5 * adrgs["EC1"]  # pneumonia far above mediastinal surgery


def test_surgical_share_rises_with_hospital_level() -> None:
    by_level: dict[int, list[bool]] = defaultdict(list)
    for _, t in his_run().lists:
        by_level[t["hospital_level"]].append(adrg_kind(t["intended_adrg"]) == "surgical")
    share = {level: sum(v) / len(v) for level, v in by_level.items() if len(v) > 300}
    levels = sorted(share)
    assert [share[level] for level in levels] == sorted(share[level] for level in levels), share


def test_comorbidities_follow_age_and_sex() -> None:
    young, old, women_prostate, children_with_hypertension = [], [], 0, 0
    for request, t in his_run().clean():
        codes = diagnoses(request)[1:]
        hypertension = any(c.startswith("I10") for c in codes)
        if t["age_days"] is None and t["age_years"] < 18:
            children_with_hypertension += hypertension and t["intended_adrg"] != "FV2"
        elif t["age_years"] < 45:
            young.append(hypertension)
        elif t["age_years"] >= 65:
            old.append(hypertension)
        women_prostate += t["sex"] == 2 and any(c.startswith("N40") for c in codes)
    if scheme_id() == "chs-drg-1.1":
        assert sum(old) / len(old) > 0.35
        assert sum(young) / len(young) < 0.12
    assert women_prostate == 0 and children_with_hypertension == 0


def test_deaths_concentrate_in_severe_groups_and_the_elderly() -> None:
    lists = [t for _, t in his_run().lists]
    dead = [t for t in lists if t["discharge_way"] == "5"]
    assert 0.002 < len(dead) / N < 0.02
    elderly = sum(t["age_years"] >= 65 for t in lists) / N
    assert sum(t["age_years"] >= 65 for t in dead) / len(dead) > elderly + 0.2
    low_risk = [t for t in lists if t["intended_adrg"] in LOW_RISK_ADRGS]
    if scheme_id() == "chs-drg-1.1":
        assert sum(t["discharge_way"] == "5" for t in low_risk) / len(low_risk) < len(dead) / N / 10


def test_no_one_comes_back_after_dying() -> None:
    died: dict[str, str] = {}
    for _, t in his_run().lists:  # discharge order
        assert t["psn_no"] not in died, "a person was admitted again after dying"
        if t["discharge_way"] == "5":
            died[t["psn_no"]] = t["setl_id"]


def test_departments_match_the_case_and_the_doctor() -> None:
    run = his_run()
    staff = {h.code: dict(h.staff) for h in run.ref.hospitals}
    matched = 0
    for request, t in run.lists:
        setlinfo = request["input"]["setlinfo"]
        dept = setlinfo["dscg_caty"]
        assert dept == t["department"] and setlinfo["chfpdr_code"] == t["doctor"]
        assert t["doctor"] in staff[t["fixmedins_code"]][dept]  # the doctor works in that department
        specialty = department_of(t["intended_adrg"], t["intended_mdc"]).code
        matched += dept == specialty
        if t["intended_mdc"] == "O" and t["age_days"] is None:
            assert MATERNAL_YEARS[0] <= t["age_years"] <= MATERNAL_YEARS[1]
    assert matched / N > 0.7  # the rest: hospitals without the specialty treat in general medicine or surgery


def test_case_mix_index_is_plausible_and_highest_at_tertiary_hospitals() -> None:
    """Weights as a settlement run makes them (group mean cost over the mean cost): every hospital's CMI within
    0.8-1.2 (maternal ones from 0.75; those with too few cases for a stable CMI pooled per level and kind), the
    general tertiary hospitals above every other hospital, tertiary above secondary above primary on average."""
    lists = [t for _, t in his_run().lists if not t["faults"]]
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for t in lists:
        costs[t["intended_drg"]].append(Decimal(t["total"]))
    overall = statistics.mean(c for group in costs.values() for c in group)
    rw = {drg: statistics.mean(group) / overall for drg, group in costs.items()}
    by_hospital: dict[tuple[str, int, str], list[Decimal]] = defaultdict(list)
    for t in lists:
        by_hospital[(t["fixmedins_code"], t["hospital_level"], t["hospital_kind"])].append(rw[t["intended_drg"]])
    cmi = {key: statistics.mean(v) for key, v in by_hospital.items()}
    by_level = {level: statistics.mean(v for (_, lv, _), v in cmi.items() if lv == level)
                for level in {lv for _, lv, _ in cmi}}
    assert by_level[3] > by_level[2] and (1 not in by_level or by_level[2] > by_level[1]), by_level
    if scheme_id() != "chs-drg-1.1":
        return
    # A CMI over a few hundred cases moves by +-0.1 (one ventilated patient weighs 10): hospitals with fewer
    # than 400 cases count pooled with the others of their level and kind. Maternal and child health hospitals
    # may sit a little lower (0.75): half their discharges are births, the lightest groups there are.
    small: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    low = {"general": Decimal("0.8"), "tcm": Decimal("0.8"), "specialty": Decimal("0.75")}
    for key, weights in by_hospital.items():
        if len(weights) >= 400:
            assert low[key[2]] < cmi[key] < Decimal("1.2"), (key, cmi[key])
        else:
            small[key[1:]] += weights
    for pooled, weights in small.items():
        assert low[pooled[1]] < statistics.mean(weights) < Decimal("1.2"), (pooled, len(weights))
    tertiary = min(v for (_, level, kind), v in cmi.items() if level == 3 and kind == "general")
    assert all(v < tertiary for (_, level, _), v in cmi.items() if level < 3), (tertiary, cmi)
    assert {1, 2, 3} <= set(by_level) and any(kind == "specialty" for _, _, kind in cmi)  # every kind measured
