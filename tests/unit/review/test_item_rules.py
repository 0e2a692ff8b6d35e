"""Item-level rules on hand-made stays: each fires on its violation and stays quiet on the look-alikes."""

from __future__ import annotations

from datetime import date, datetime

from .builders import ITEMS, flags, knowledge, line, stay


def categories(s: object, category: str) -> list[str]:
    return [f.evidence for f in flags(s, category)]  # type: ignore[arg-type]


# restricted sex ---------------------------------------------------------------------------------------------------
def test_an_item_for_men_charged_to_a_woman_is_flagged_with_its_amount() -> None:
    s = stay(line("1", "PSA", "2026-03-02 09:00:00", pric="55.00", category="04"), sex=2)
    [flag] = flags(s, "restricted_sex")
    assert flag.amount == 5500 and flag.rule_id == "RV-SEX-01" and flag.rule_version == "1"
    assert "men only" in flag.evidence and "female" in flag.evidence and "feedetl_sn 1" in flag.evidence
    assert flag.lines[0].sn == "1" and flag.lines[0].role == 1


def test_sex_limited_items_on_the_right_sex_or_an_unknown_sex_are_quiet() -> None:
    psa = line("1", "PSA", "2026-03-02 09:00:00", pric="55.00")
    hpv = line("2", "HPV", "2026-03-02 09:00:00", pric="180.00")
    assert not categories(stay(psa, sex=1), "restricted_sex")
    assert not categories(stay(hpv, sex=2), "restricted_sex")
    assert not categories(stay(psa, hpv, sex=None), "restricted_sex")


def test_a_sex_limited_item_refunded_in_full_was_not_charged() -> None:
    s = stay(line("1", "PSA", "2026-03-02 09:00:00", pric="55.00"),
             line("2", "PSA", "2026-03-02 10:00:00", cnt="-1", pric="55.00", refers_to="1"), sex=2)
    assert not categories(s, "restricted_sex")


# restricted age ---------------------------------------------------------------------------------------------------
def ped(sn: str = "1") -> object:
    return line(sn, "PED", "2026-03-02 09:00:00", pric="1.20", category="09")


def test_a_child_item_over_its_age_limit_is_flagged() -> None:
    [flag] = flags(stay(ped(), birth=date(2010, 6, 1), age_years=15, stated_age=15), "restricted_age")  # type: ignore[arg-type]
    assert "0-14" in flag.evidence and "15 at admission" in flag.evidence and flag.amount == 120


def test_age_is_the_age_at_admission_not_at_discharge() -> None:
    # 14 on admission (1 March), 15 on 3 March during the stay: the child item was allowed
    s = stay(ped(), birth=date(2011, 3, 3), age_years=14, stated_age=14)  # type: ignore[arg-type]
    assert not categories(s, "restricted_age")
    # 17 on admission, 18 the next day: the adult item was not allowed
    adult = line("1", "ADULT", "2026-03-04 09:00:00", pric="4.20", category="09")
    [flag] = flags(stay(adult, birth=date(2008, 3, 2), age_years=17, stated_age=17), "restricted_age")
    assert "17 at admission" in flag.evidence and "18-75" in flag.evidence


def test_the_limits_are_inclusive() -> None:
    adult = line("1", "ADULT", "2026-03-04 09:00:00", pric="4.20", category="09")
    assert not categories(stay(ped(), age_years=14, stated_age=14), "restricted_age")  # type: ignore[arg-type]
    assert not categories(stay(adult, age_years=18, stated_age=18), "restricted_age")
    assert not categories(stay(adult, age_years=75, stated_age=75), "restricted_age")
    assert categories(stay(adult, age_years=76, stated_age=76), "restricted_age")


def test_without_a_birth_date_the_stated_age_counts_and_without_any_age_the_rule_is_quiet() -> None:
    adult = line("1", "ADULT", "2026-03-04 09:00:00", pric="4.20", category="09")
    [flag] = flags(stay(adult, age_years=None, birth=None, stated_age=12), "restricted_age")
    assert "as stated on the list" in flag.evidence
    assert not categories(stay(adult, age_years=None, birth=None, stated_age=None), "restricted_age")


def test_a_stated_age_that_contradicts_the_birth_date_is_judged_too() -> None:
    # the birth date gives 30 at admission, the record states 16: the adult item is flagged, both ages named
    adult = line("1", "ADULT", "2026-03-04 09:00:00", pric="4.20", category="09")
    [flag] = flags(stay(adult, birth=date(1995, 6, 1), age_years=30, stated_age=16), "restricted_age")
    assert "16 at admission (as stated on the list; the birth date 1995-06-01 gives 30)" in flag.evidence
    [flag] = flags(stay(ped(), birth=date(1995, 6, 1), age_years=30, stated_age=12), "restricted_age")  # type: ignore[arg-type]
    assert "30 at admission (born 1995-06-01, admitted 2026-03-01; the list states 12)" in flag.evidence
    assert not categories(stay(adult, birth=date(1995, 6, 1), age_years=30, stated_age=31), "restricted_age")


# duplicate charge -------------------------------------------------------------------------------------------------
def test_the_same_item_twice_at_the_same_time_with_the_same_quantity_and_price_is_a_duplicate() -> None:
    s = stay(line("1", "X1", "2026-03-02 09:15:00", cnt="2", pric="12.50"),
             line("2", "X1", "2026-03-02 09:15:00", cnt="2", pric="12.50"))
    [flag] = flags(s, "duplicate_charge")
    assert flag.amount == 2500 and "charged 2 times at 2026-03-02 09:15:00" in flag.evidence
    assert [(r.sn, r.role) for r in flag.lines] == [("1", 2), ("2", 1)]


def test_an_identical_line_sent_twice_with_the_same_sn_is_a_duplicate_and_three_copies_cost_two() -> None:
    one = line("7", "X1", "2026-03-02 09:15:00")
    [flag] = flags(stay(one, one, one), "duplicate_charge")
    assert flag.amount == 2000 and "3 times" in flag.evidence


def test_repeats_that_differ_in_time_quantity_or_price_are_not_duplicates() -> None:
    s = stay(line("1", "X1", "2026-03-02 09:15:00"), line("2", "X1", "2026-03-02 09:15:01"),
             line("3", "X1", "2026-03-02 12:00:00", cnt="1"), line("4", "X1", "2026-03-02 12:00:00", cnt="2"),
             line("5", "X2", "2026-03-02 12:00:00", pric="3.00"), line("6", "X2", "2026-03-02 12:00:00",
                                                                          pric="3.10"),
             line("8", "X3", "2026-03-02 08:00:00"), line("9", "X3", "2026-03-03 08:00:00"))
    assert not categories(s, "duplicate_charge")


def test_a_refund_naming_one_of_the_copies_cancels_it_an_anonymous_refund_does_not() -> None:
    copies = [line("1", "X1", "2026-03-02 09:15:00"), line("2", "X1", "2026-03-02 09:15:00")]
    named = line("3", "X1", "2026-03-02 10:00:00", cnt="-1", refers_to="2")
    anonymous = line("3", "X1", "2026-03-02 10:00:00", cnt="-1")
    assert not categories(stay(*copies, named), "duplicate_charge")
    assert categories(stay(*copies, anonymous), "duplicate_charge")


# excessive quantity -----------------------------------------------------------------------------------------------
def drip(sn: str, time: str, cnt: str = "1") -> object:
    return line(sn, "DRIP", time, cnt=cnt, pric="8.50")


def test_a_day_up_to_the_maximum_is_fine_one_more_is_excessive() -> None:
    four = [drip(str(i), f"2026-03-02 {8 + i:02d}:00:00") for i in range(4)]
    assert not categories(stay(*four), "excessive_quantity")  # type: ignore[arg-type]
    [flag] = flags(stay(*four, drip("9", "2026-03-02 20:00:00")), "excessive_quantity")  # type: ignore[arg-type]
    assert "5 on 2026-03-02, above the daily maximum 4" in flag.evidence and "1 too many" in flag.evidence
    assert flag.amount == 850


def test_one_line_with_a_large_quantity_is_excessive_and_refunds_count_against_the_day() -> None:
    assert categories(stay(drip("1", "2026-03-02 08:00:00", "6")), "excessive_quantity")  # type: ignore[arg-type]
    refunded = stay(drip("1", "2026-03-02 08:00:00", "5"),  # type: ignore[arg-type]
                    drip("2", "2026-03-02 09:00:00", "-1"))
    assert not categories(refunded, "excessive_quantity")


def test_days_are_calendar_days_of_the_fee_time() -> None:
    s = stay(drip("1", "2026-03-02 23:59:00", "3"), drip("2", "2026-03-03 00:01:00", "3"))  # type: ignore[arg-type]
    assert not categories(s, "excessive_quantity")


def test_decimal_daily_maxima_are_exact() -> None:
    halves = [line(str(i), "HALF", f"2026-03-02 {8 + i:02d}:00:00", cnt="0.5", pric="0.80") for i in range(3)]
    assert not categories(stay(*halves), "excessive_quantity")
    more = [*halves, line("9", "HALF", "2026-03-02 20:00:00", cnt="0.5", pric="0.80")]
    [flag] = flags(stay(*more), "excessive_quantity")
    assert "2 on 2026-03-02" in flag.evidence and "0.5 too many" in flag.evidence


def test_items_without_a_maximum_or_outside_the_library_are_never_excessive() -> None:
    s = stay(line("1", "ALT", "2026-03-02 08:00:00", cnt="30"), line("2", "UNKNOWN", "2026-03-02 08:00:00", cnt="99"))
    assert not categories(s, "excessive_quantity")


# unbundled charge -------------------------------------------------------------------------------------------------
def test_an_item_and_one_it_includes_on_the_same_day_are_unbundled() -> None:
    s = stay(line("1", "LIVER", "2026-03-02 08:00:00", pric="96.00"), line("2", "ALT", "2026-03-02 15:00:00",
                                                                           pric="7.00"))
    [flag] = flags(s, "unbundled_charge")
    assert flag.amount == 700 and "2026-03-02" in flag.evidence
    assert {(r.sn, r.role) for r in flag.lines} == {("2", 1), ("1", 2)}


def test_exclusive_pairs_hold_whichever_item_lists_them() -> None:
    s = stay(line("1", "TBIL", "2026-03-02 08:00:00", pric="6.50"), line("2", "LIVER", "2026-03-02 15:00:00",
                                                                         pric="96.00"))
    assert categories(s, "unbundled_charge")


def test_a_partner_that_exclusive_with_names_needs_no_row_of_its_own() -> None:
    library = knowledge(ITEMS + "PANEL,套餐,service,04,50.00,,,,1,PART9\n")
    s = stay(line("1", "PART9", "2026-03-02 08:00:00", pric="9.00"), line("2", "PANEL", "2026-03-02 20:00:00",
                                                                         pric="50.00"))
    [flag] = flags(s, "unbundled_charge", library=library)
    assert flag.amount == 900 and "PART9" in flag.evidence and "PANEL" in flag.evidence


def test_exclusive_items_on_different_days_or_refunded_or_not_exclusive_are_fine() -> None:
    other_days = stay(line("1", "LIVER", "2026-03-02 08:00:00", pric="96.00"),
                      line("2", "ALT", "2026-03-03 08:00:00", pric="7.00"))
    refunded = stay(line("1", "LIVER", "2026-03-02 08:00:00", pric="96.00"),
                    line("2", "LIVER", "2026-03-02 09:00:00", cnt="-1", pric="96.00", refers_to="1"),
                    line("3", "ALT", "2026-03-02 10:00:00", pric="7.00"))
    components = stay(line("1", "ALT", "2026-03-02 08:00:00", pric="7.00"),
                      line("2", "TBIL", "2026-03-02 08:00:00", pric="6.50"))
    for s in (other_days, refunded, components):
        assert not categories(s, "unbundled_charge")


def test_a_clean_stay_with_repeated_routine_charges_has_no_flag_at_all() -> None:
    days = [datetime(2026, 3, d) for d in range(1, 6)]
    lines = []
    for day in days:
        stamp = f"{day:%Y-%m-%d}"
        lines += [line(f"b{day.day}", "BED", f"{stamp} 00:00:00", pric="45.00", category="01"),
                  *(drip(f"d{day.day}{h}", f"{stamp} {h:02d}:00:00") for h in (8, 12, 16, 20))]  # type: ignore[misc]
    s = stay(*lines, category_fen=(("01", 5 * 4500), ("05", 20 * 850)))
    assert flags(s) == []
