"""Upcoding by CMI against peers (RV-UPC-03 hospital, RV-UPC-04 doctor): weights from the review's costs, a unit's
summed weights against its peers' mean weight per ADRG, and the stays whose cost fits a lighter DRG."""

from __future__ import annotations

import dataclasses
import math

from services.evaluation.domain.review.cmi_rules import relative_weights
from services.evaluation.domain.review.model import Flag, Stay

from .builders import reviewer
from .test_case_rules import population


def unit(code: str, *, plain: int, cc: int, mcc: int, cc_cost: int = 800_000, mcc_cost: int = 1_500_000,
         seed: int, level: int = 2, doctor: str = "") -> list[Stay]:
    """A hospital's stays of ADRG ES2: ES25 without complications, ES23 with a CC, ES21 with an MCC."""
    out: list[Stay] = []
    for drg, n, cost in (("ES25", plain, 600_000), ("ES23", cc, cc_cost), ("ES21", mcc, mcc_cost)):
        if n:
            out += [dataclasses.replace(s, setl_id=f"{code}{s.setl_id}", doctor=doctor or f"D{code}")
                    for s in population(drg, n, 6, cost, seed=seed + len(out), fixmedins_code=code,
                                        hospital_level=level)]
    return out


def cmi_flags(stays: list[Stay], rule: str = "RV-UPC-03") -> list[Flag]:
    return [f for f in reviewer().check_population(stays) if f.rule_id == rule]


def peers() -> list[Stay]:
    return [s for h in range(8) for s in unit(f"H{h}", plain=60, cc=15, mcc=10, seed=10 * h)]


def test_relative_weights_are_trimmed_mean_costs_over_the_trimmed_mean_of_all() -> None:
    stays = unit("H", plain=20, cc=20, mcc=0, seed=1)
    odd = dataclasses.replace(stays[0], setl_id="ODD", total_fen=50_000_000)  # beyond its group's 95th percentile
    w = relative_weights([odd, *stays[1:]], 10)
    plain = sorted(s.total_fen or 0 for s in stays[1:20])
    cc = [s.total_fen or 0 for s in stays[20:]]
    kept_cc = sorted(cc)[:19]  # of 20 costs, the 5th percentile is the 1st (kept), the 95th the 19th: the 20th out
    assert w.stays == len(plain) + len(kept_cc)
    assert abs(w.avg_all - (sum(plain) + sum(kept_cc)) / w.stays) < 1e-6
    assert abs(w.rw["ES23"] - sum(kept_cc) / len(kept_cc) / w.avg_all) < 1e-9
    assert relative_weights(stays[:5], 10).rw == {}  # too few stays for a weight


def test_a_cc_coded_up_to_an_mcc_is_seen_by_the_cmi_not_by_the_mcc_cc_share() -> None:
    """The upcoder's share of stays with complications is its peers' (50 of 170, theirs 25 of 85); its CCs are
    coded as MCCs and cost what CC stays cost."""
    upcoder = unit("HUP", plain=120, cc=0, mcc=50, mcc_cost=800_000, seed=99)
    stays = [*peers(), *upcoder]
    assert not [f for f in reviewer().check_population(stays) if f.rule_id == "RV-UPC-01"]
    found = cmi_flags(stays)
    assert {f.fixmedins_code for f in found} == {"HUP"}
    upcoded = [s for s in upcoder if s.group and s.group.drg == "ES21"]
    assert {f.setl_id for f in found} <= {s.setl_id for s in upcoded}
    w = relative_weights(stays, 5)
    # Its peers' mix would have 20 of its 50 complicated stays as MCCs: the excess weight is 30 CCs coded up, so
    # about 30 stays are flagged (those costing least first), each giving back RW(ES21) - RW(ES23).
    bar = sum(w.rw[s.group.drg] for s in peers() if s.group) / 680
    excess = sum(w.rw[s.group.drg] for s in upcoder if s.group) - 170 * bar
    step = w.rw["ES21"] - w.rw["ES23"]
    assert len(found) == math.ceil(excess / step) and 25 <= len(found) <= 35
    cheapest = sorted(upcoded, key=lambda s: (s.total_fen or 0, s.setl_id))[:len(found)]
    assert {f.setl_id for f in found} == {s.setl_id for s in cheapest}
    evidence = found[0].evidence
    assert "hospital HUP has a CMI of" in evidence and "over its 170 stays in 1 ADRGs" in evidence
    assert "peers: the other stays at hospitals of its level" in evidence and "> 3," in evidence
    assert "population: 850 stays, 9 hospitals, 1 ADRGs" in evidence and ">= 1.03" in evidence
    assert "nearer the peers' median cost" in evidence and "of ES23" in evidence
    assert f"in ADRG ES2 its 170 stays weigh {excess:.4f} more than as many at its peers' mean" in evidence
    assert found[0].amount == round(step * w.avg_all) > 0


def test_an_honest_hospital_with_the_peers_mix_or_costly_mcc_stays_is_not_flagged() -> None:
    sicker = unit("HSICK", plain=60, cc=15, mcc=35, seed=77)  # more MCC stays, and they cost what MCCs cost
    found = cmi_flags([*peers(), *sicker])
    assert not [f for f in found if f.fixmedins_code.startswith("H") and f.fixmedins_code != "HSICK"]
    assert not found  # an outlier unit, but no stay whose cost fits a lighter DRG
    assert not cmi_flags(peers())


def test_a_hospital_is_compared_with_hospitals_of_its_level_only() -> None:
    """A tertiary hospital whose MCC stays cost like CC stays has no tertiary peers: not judged."""
    tertiary = unit("T", plain=60, cc=0, mcc=25, mcc_cost=800_000, seed=5, level=3)
    assert not cmi_flags([*peers(), *tertiary])


def test_the_doctor_rule_names_the_doctor_and_its_peers() -> None:
    doctors = [s for h in range(8) for s in unit(f"H{h}", plain=60, cc=15, mcc=10, seed=10 * h, doctor=f"DOC{h}")]
    upcoder = unit("H9", plain=120, cc=0, mcc=50, mcc_cost=800_000, seed=99, doctor="DOCUP")
    found = cmi_flags([*doctors, *upcoder], "RV-UPC-04")
    assert found and {f.setl_id for f in found} <= {s.setl_id for s in upcoder}
    assert "doctor DOCUP has a CMI" in found[0].evidence and "9 doctors" in found[0].evidence


def test_a_group_the_level_rarely_codes_is_judged_by_the_anchor_median_times_the_weights_ratio() -> None:
    """Primary hospitals code no MCC stays of ES2 (the weights come from the secondary ones): the upcoder's MCC
    stays are judged against the primary peers' ES25 median x RW(ES21) / RW(ES25)."""
    primary = [s for h in range(6) for s in unit(f"P{h}", plain=60, cc=15, mcc=0, seed=7 * h, level=1)]
    upcoder = unit("PUP", plain=60, cc=0, mcc=25, mcc_cost=800_000, seed=3, level=1)
    found = cmi_flags([*peers(), *primary, *upcoder])
    assert {f.setl_id for f in found} == {s.setl_id for s in upcoder if s.group and s.group.drg == "ES21"}
    assert "a median not observed is the peers' median cost of ES25 x the weights' ratio" in found[0].evidence


def heavy(code: str, seed: int, level: int = 2) -> list[Stay]:
    """A few stays of a very heavy ADRG (AH1, tracheostomies: weights of 15-40) with the usual spread of severity."""
    return [dataclasses.replace(s, setl_id=f"{code}{s.setl_id}", doctor=f"D{code}") for drg, cost in
            (("AH11", 40_000_000), ("AH15", 15_000_000))
            for s in population(drg, 3, 20, cost, seed=seed, fixmedins_code=code, hospital_level=level)]


def test_a_few_stays_of_a_very_heavy_adrg_do_not_drown_an_excess_over_common_ones() -> None:
    """Weighed raw, AH1's spread (15 to 40) would be nearly all of the variance and put the upcoder's z near 0;
    each stay's weight relative to its peers' mean in the ADRG counts every ADRG by its stays."""
    upcoder = unit("HUP", plain=120, cc=0, mcc=50, mcc_cost=800_000, seed=99) + heavy("HUP", 5)
    stays = [*peers(), *[s for h in range(8) for s in heavy(f"H{h}", 10 + h)], *upcoder]
    found = cmi_flags(stays)
    assert {f.fixmedins_code for f in found} == {"HUP"} and "in 2 ADRGs" in found[0].evidence
    assert "its stays weigh on average" in found[0].evidence
