"""Case-level rules: split admission by CONTRACT's words; statistical rules state population and threshold."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

from services.evaluation.domain.review.case_rules import KINDS, icd10_chapter, split_admission
from services.evaluation.domain.review.model import Group, Stay
from services.evaluation.domain.review.rules import Context

from .builders import grouped, knowledge, reviewer, stay


def admission(setl_id: str, admitted: datetime, days: int, dx: tuple[str, ...] = ("J18.900",),
              **changes: object) -> Stay:
    fields: dict[str, object] = {"total_fen": 500_000, **changes}
    return stay(setl_id=setl_id, mdtrt_id="M" + setl_id, admitted=admitted,
                discharged=admitted.replace(hour=10) + timedelta(days=days), diagnoses=dx, **fields)


def split_flags(*stays: Stay) -> dict[str, str]:
    return {f.setl_id: f.evidence for f in reviewer().check_people(stays) if f.category.value == "split_admission"}


FIRST = datetime(2026, 3, 1, 9, 0)  # discharged 2026-03-06 10:00


def test_readmission_within_15_days_of_discharge_flags_both_stays_money_on_the_readmission() -> None:
    first = admission("A", FIRST, 5)
    back = admission("B", datetime(2026, 3, 21, 8, 0), 3)  # 15 calendar days after 6 March
    found = reviewer().check_people([back, first])
    assert {f.setl_id for f in found} == {"A", "B"}
    by_id = {f.setl_id: f for f in found}
    assert by_id["B"].amount == 500_000 and by_id["A"].amount == 0
    assert by_id["B"].related_setl_id == "A" and by_id["A"].related_setl_id == "B"
    assert "15 day(s) after discharge on 2026-03-06" in by_id["B"].evidence
    assert "same category J18" in by_id["B"].evidence


def test_day_16_is_outside_the_window_and_the_same_day_is_inside() -> None:
    first = admission("A", FIRST, 5)
    assert not split_flags(first, admission("B", datetime(2026, 3, 22, 8, 0), 3))
    assert split_flags(first, admission("B", datetime(2026, 3, 6, 15, 0), 3))


def test_another_hospital_another_person_or_an_unrelated_condition_is_no_split() -> None:
    first = admission("A", FIRST, 5)
    later = datetime(2026, 3, 10, 8, 0)
    assert not split_flags(first, admission("B", later, 3, fixmedins_code="H33070200027"))
    other = admission("B", later, 3, psn_no="P2")
    assert not reviewer().check_people([first, other])
    assert not split_flags(first, admission("B", later, 3, dx=("S72.000",)))


def test_related_conditions_same_category_earlier_secondary_or_same_adrg() -> None:
    first = admission("A", FIRST, 5, dx=("I21.001", "I10.x05"))
    later = datetime(2026, 3, 10, 8, 0)
    assert "same category I21" in split_flags(first, admission("B", later, 3, dx=("I21.000",)))["B"]
    assert "already a diagnosis" in split_flags(first, admission("B", later, 3, dx=("I10.x05",)))["B"]
    g1, g2 = grouped(first, "FR21"), grouped(admission("B", later, 3, dx=("I20.000",)), "FR25")
    assert "same ADRG FR2" in split_flags(g1, g2)["B"]


def test_related_by_mdc_or_icd10_chapter_but_not_across_body_systems() -> None:
    first = admission("A", FIRST, 5, dx=("I21.001",))
    later = datetime(2026, 3, 10, 8, 0)
    g1, g2 = grouped(first, "FR21"), grouped(admission("B", later, 3, dx=("I50.900",)), "FT15")
    assert "same MDC F" in split_flags(g1, g2)["B"]
    assert "same ICD-10 chapter IX" in split_flags(first, admission("B", later, 3, dx=("I63.900",)))["B"]
    other = grouped(admission("B", later, 3, dx=("J18.900",)), "ES25")
    assert not split_flags(g1, other)


def test_icd10_chapters_follow_the_ranges_not_the_letters() -> None:
    assert [icd10_chapter(c) for c in ("A09.9", "B99", "C34.900", "D48.2", "D50.0", "H59.1", "H60.0", "S72.000",
                                       "T14.9", "V01.0", "Z51.100", "U07.1", "", "9ZZ")] == [
        "I", "I", "II", "II", "III", "VII", "VIII", "XIX", "XIX", "XX", "XXI", "XXII", "", ""]


def test_chemotherapy_courses_are_readmissions_unless_the_rule_set_exempts_them() -> None:
    first = admission("A", FIRST, 5, dx=("Z51.100", "C34.900"))
    back = admission("B", datetime(2026, 3, 10, 8), 3, dx=("Z51.100", "C34.900"))
    assert set(split_flags(first, back)) == {"A", "B"}  # CONTRACT: the same condition within 15 days
    kind = next(k for k in KINDS if k.name == "split_admission")
    exempt = {**kind.defaults(), "exempt_principal": ("Z51.1",)}
    assert not list(split_admission([first, back], Context(knowledge()), exempt))


def test_overlapping_or_same_stay_lists_are_not_readmissions() -> None:
    overlap = admission("B", datetime(2026, 3, 4, 8), 3)  # admitted before the first stay ended
    assert not split_flags(admission("A", FIRST, 5), overlap)
    same_stay = dataclasses.replace(admission("B", datetime(2026, 3, 8, 8), 3), mdtrt_id="MA")
    assert not split_flags(admission("A", FIRST, 5), same_stay)


def test_a_chain_of_readmissions_flags_every_stay() -> None:
    a = admission("A", FIRST, 5)
    b = admission("B", datetime(2026, 3, 12, 8), 4)
    c = admission("C", datetime(2026, 3, 20, 8), 2)
    assert set(split_flags(c, a, b)) == {"A", "B", "C"}


# statistical rules ------------------------------------------------------------------------------------------------
def population(drg: str, n: int, los: int, cost: int, seed: int = 1, **changes: object) -> list[Stay]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        days = max(1, los + rng.randint(-2, 2))
        s = admission(f"{drg}{i}", FIRST + timedelta(days=i % 200), days, total_fen=cost + rng.randint(-5000, 5000),
                      psn_no=f"P{drg}{i}", **changes)
        out.append(dataclasses.replace(s, group=Group(drg, drg[:3], drg[0])))
    return out


def test_over_long_stay_states_population_median_and_threshold() -> None:
    stays = population("ES25", 40, 6, 600_000)
    long = dataclasses.replace(stays[0], setl_id="LONG", discharged=stays[0].admitted + timedelta(days=20))
    found = [f for f in reviewer().check_population([long, *stays[1:]]) if f.category.value == "over_long_stay"]
    assert [f.setl_id for f in found] == ["LONG"]
    assert "40 stays of DRG ES25" in found[0].evidence and "above 2.5 x median" in found[0].evidence


def test_over_long_stay_puts_the_cost_of_the_days_beyond_the_median_at_stake() -> None:
    stays = [dataclasses.replace(s, discharged=s.admitted + timedelta(days=6)) for s in population("ES25", 40, 6,
                                                                                                   600_000)]
    long = dataclasses.replace(stays[0], setl_id="LONG", discharged=stays[0].admitted + timedelta(days=20),
                               total_fen=1_000_000)
    found = [f for f in reviewer().check_population([long, *stays[1:]]) if f.category.value == "over_long_stay"]
    assert [f.setl_id for f in found] == ["LONG"]
    assert found[0].amount == 700_000  # 14 of its 20 days are beyond the median of 6: 10,000.00 x 14 / 20
    assert "cost 10000.00 yuan x 14 / 20 days = 7000.00 yuan" in found[0].evidence


def test_over_long_stay_with_a_half_day_median_rounds_the_share_half_up() -> None:
    stays = [dataclasses.replace(s, discharged=s.admitted + timedelta(days=7 - i % 2))
             for i, s in enumerate(population("ES25", 40, 6, 600_000))]  # with LONG: median 6.5 days
    long = dataclasses.replace(stays[0], setl_id="LONG", discharged=stays[0].admitted + timedelta(days=21),
                               total_fen=100_023)
    found = [f for f in reviewer().check_population([long, *stays[1:]]) if f.category.value == "over_long_stay"]
    assert [f.amount for f in found] == [69_064]  # 1,000.23 x 14.5 / 21 = 690.635 yuan
    assert "x 14.5 / 21 days = 690.64 yuan" in found[0].evidence


def test_statistical_rules_need_a_population() -> None:
    stays = population("ES25", 10, 6, 600_000)
    long = dataclasses.replace(stays[0], discharged=stays[0].admitted + timedelta(days=40))
    assert not reviewer().check_population([long, *stays[1:]])


def test_low_standard_admission_short_cheap_no_procedure_outpatient_condition() -> None:
    stays = population("ES25", 40, 6, 600_000)
    cheap = dataclasses.replace(stays[0], setl_id="CHEAP", discharged=stays[0].admitted + timedelta(days=1),
                                total_fen=150_000)
    with_procedure = dataclasses.replace(cheap, setl_id="OPERATED", procedures=("47.0100",))
    died = dataclasses.replace(cheap, setl_id="DIED", discharge_way="5")
    found = [f for f in reviewer().check_population([cheap, with_procedure, died, *stays[1:]])
             if f.category.value == "low_standard_admission"]
    assert [f.setl_id for f in found] == ["CHEAP"]
    assert "at most 2 days and at most 0.4 x median" in found[0].evidence and found[0].amount == 150_000
    assert "population: 42 stays of DRG ES25 in this review, median cost 5995.74" in found[0].evidence


def _upcoding_region(hospitals: int, plain: int, mcc: int, *, upcoder_plain: int, upcoder_plain_cost: int,
                     upcoded: int) -> tuple[list[Stay], list[Stay]]:
    """Honest hospitals with ``plain`` ES25 stays and ``mcc`` costlier ES21 stays each, and hospital HUP whose
    ``upcoded`` ES21 stays cost what its plain ES25 stays cost: (every stay, the upcoded ones)."""
    stays = []
    for h in range(hospitals):
        honest_mcc = population("ES21", mcc, 9, 1_100_000, seed=h + 50, fixmedins_code=f"H{h}")
        stays += population("ES25", plain, 6, 600_000, seed=h, fixmedins_code=f"H{h}")
        stays += [dataclasses.replace(s, setl_id=f"H{h}{s.setl_id}") for s in honest_mcc]
    stays += population("ES25", upcoder_plain, 6, upcoder_plain_cost, seed=99, fixmedins_code="HUP")
    coded_up = [dataclasses.replace(s, setl_id=f"UP{i}") for i, s in
                enumerate(population("ES21", upcoded, 6, 640_000, seed=98, fixmedins_code="HUP"))]
    return stays + coded_up, coded_up


def test_upcoding_an_outlier_hospital_with_mcc_stays_costing_like_stays_without() -> None:
    stays, upcoded = _upcoding_region(6, 60, 15, upcoder_plain=40, upcoder_plain_cost=650_000, upcoded=35)
    found = [f for f in reviewer().check_population(stays) if f.rule_id == "RV-UPC-01"]
    assert found and {f.fixmedins_code for f in found} == {"HUP"}
    assert {f.setl_id for f in found} <= {s.setl_id for s in upcoded}
    assert len(found) >= 30
    assert "z = " in found[0].evidence and "population:" in found[0].evidence and found[0].amount > 0


def test_upcoding_a_large_hospital_is_compared_with_its_peers_not_with_a_pool_it_dominates() -> None:
    """Three fifths of the ADRG's stays are the upcoder's: a share pooled over everyone (itself included) would
    expect 0.26 of it and see a ratio of 1.15; its peers' share, 0.2, shows the 1.5 it is."""
    stays, upcoded = _upcoding_region(4, 40, 10, upcoder_plain=210, upcoder_plain_cost=600_000, upcoded=90)
    found = [f for f in reviewer().check_population(stays) if f.rule_id == "RV-UPC-01"]
    assert {f.setl_id for f in found} == {s.setl_id for s in upcoded}
    assert "90 of 300 stays" in found[0].evidence and "60.0 expected from its peers' shares" in found[0].evidence
    assert "ratio 1.50 >= 1.3" in found[0].evidence and "population: 500 stays, 5 hospitals" in found[0].evidence


def test_upcoding_compares_a_hospital_with_hospitals_of_its_level() -> None:
    """A tertiary hospital's sicker patients are not upcoding, and its share is not the bar for a secondary one:
    pooled over every level, the tertiary hospital would be flagged (1.5 x the others) and the secondary upcoder
    missed (1.14 x); among secondary hospitals the upcoder stands at 1.67 x and the tertiary one has no peers."""
    def unit(code: str, level: int, plain: int, mcc: int, mcc_cost: int, *, seed: int) -> list[Stay]:
        stays = population("ES25", plain, 6, 600_000, seed=seed, fixmedins_code=code, hospital_level=level)
        stays += [dataclasses.replace(s, setl_id=f"{code}{s.setl_id}") for s in
                  population("ES21", mcc, 6, mcc_cost, seed=seed + 50, fixmedins_code=code, hospital_level=level)]
        return stays
    peers = [s for h in range(4) for s in unit(f"H{h}", 2, 40, 10, 1_100_000, seed=h)]
    tertiary = unit("T", 3, 60, 40, 640_000, seed=7)
    upcoder = unit("S", 2, 120, 60, 640_000, seed=8)
    found = [f for f in reviewer().check_population([*peers, *tertiary, *upcoder]) if f.rule_id == "RV-UPC-01"]
    assert {f.fixmedins_code for f in found} == {"S"} and len(found) == 60
    assert "36.0 expected" in found[0].evidence and "ratio 1.67" in found[0].evidence
    assert "peers: the other stays at hospitals of its level;" in found[0].evidence
    unknown = [dataclasses.replace(s, hospital_level=0) for s in [*peers, *tertiary, *upcoder]]
    pooled = {f.fixmedins_code for f in reviewer().check_population(unknown) if f.rule_id == "RV-UPC-01"}
    assert pooled == {"T"}
