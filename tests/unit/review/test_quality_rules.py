"""Data-quality rules: the list or its fee details contradict themselves."""

from __future__ import annotations

from datetime import datetime

from .builders import flags, line, stay


def evidence(s: object, rule_id: str, **kwargs: object) -> list[str]:
    return [f.evidence for f in flags(s, "data_quality", **kwargs) if f.rule_id == rule_id]  # type: ignore[arg-type]


def test_an_amount_that_is_not_cnt_times_pric_is_flagged() -> None:
    s = stay(line("1", "X1", "2026-03-02 09:00:00", cnt="2", pric="12.50", amount="26.00"))
    [text] = evidence(s, "RV-DQ-01")
    assert "sn 1: 2 x 12.5 charged 26.00" in text


def test_products_with_more_than_two_places_may_round_either_way() -> None:
    third = [line("1", "X1", "2026-03-02 09:00:00", cnt="0.333", pric="10.00", amount=a) for a in ("3.33",)]
    up = line("2", "X1", "2026-03-02 10:00:00", cnt="0.335", pric="10.00", amount="3.35")
    down = line("3", "X1", "2026-03-02 11:00:00", cnt="0.335", pric="10.01", amount="3.35")  # 3.35335
    assert not evidence(stay(*third, up, down), "RV-DQ-01")
    off = line("4", "X1", "2026-03-02 12:00:00", cnt="0.335", pric="10.00", amount="3.37")
    assert evidence(stay(off), "RV-DQ-01")


def test_unreadable_lines_are_reported() -> None:
    s = stay(line("1", "X1", "2026-03-02 09:00:00"), detail_problems=("feedetail[3] (feedetl_sn 4): unreadable "
                                                                       "cnt 'two'",))
    [text] = evidence(s, "RV-DQ-01")
    assert "unreadable cnt 'two'" in text


def test_details_must_sum_to_the_fee_categories_of_the_list() -> None:
    lines = (line("1", "X1", "2026-03-02 09:00:00", pric="10.00", category="05"),
             line("2", "X2", "2026-03-02 09:00:00", pric="5.00", category="09"))
    assert not evidence(stay(*lines, category_fen=(("05", 1000), ("09", 500))), "RV-DQ-02")
    [text] = evidence(stay(*lines, category_fen=(("05", 1000), ("09", 400), ("01", 100))), "RV-DQ-02")
    assert "2 categories" in text and "09: details 5.00, list 4.00" in text and "01: details 0.00, list 1.00" in text


def test_without_fee_categories_details_must_sum_to_the_record_total() -> None:
    lines = (line("1", "X1", "2026-03-02 09:00:00", pric="10.00"),)
    assert not evidence(stay(*lines, category_fen=None, total_fen=1000), "RV-DQ-02")
    [text] = evidence(stay(*lines, category_fen=None, total_fen=1200), "RV-DQ-02")
    assert "medfee_sumamt is 12.00" in text
    assert not evidence(stay(category_fen=None, total_fen=1200), "RV-DQ-02")  # no details uploaded: no judgement


def test_fees_dated_outside_the_stay_by_calendar_day() -> None:
    inside = (line("1", "X1", "2026-03-01 00:00:00"), line("2", "X1", "2026-03-05 23:59:59"))
    assert not evidence(stay(*inside), "RV-DQ-03")
    [text] = evidence(stay(*inside, line("3", "X1", "2026-03-06 00:00:01")), "RV-DQ-03")
    assert "sn 3 at 2026-03-06 00:00:01" in text


def test_the_list_against_itself_and_the_code_tables() -> None:
    assert not evidence(stay(), "RV-DQ-04")
    backwards = stay(admitted=datetime(2026, 3, 5), discharged=datetime(2026, 3, 1))
    assert "before admission" in evidence(backwards, "RV-DQ-04")[0]
    pregnant_man = stay(diagnoses=("J18.900", "O80.000"), sex=1)
    assert "women only" in evidence(pregnant_man, "RV-DQ-04")[0]
    unknown = evidence(stay(diagnoses=("J18.900", "J18.999")), "RV-DQ-04",
                       diagnoses=frozenset({"J18.900"}), procedures=frozenset())
    assert "J18.999 not in ICD-10" in unknown[0]
