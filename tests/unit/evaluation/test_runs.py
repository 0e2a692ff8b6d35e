"""The pure parts of an evaluation run: which group a case is evaluated under, upload timeliness, weights given
with a request, the input digest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.common.errors import FailedPrecondition, InvalidArgument
from services.evaluation.adapters.indicators.collection_feed import FeedCase
from services.evaluation.domain.indicators.periods import EvaluationPeriod
from services.evaluation.service_layer.indicators.runs import (
    WeightTable,
    case_table,
    check_weights,
    given_weights,
    input_digest,
    quality_figures,
    upload_window,
)


def feed_case(list_id: str, *, hospital: str = "H1", groups: tuple[tuple[str, str, str], ...] = (("s", "1", "G1"),),
              discharge: date = date(2026, 1, 10), doctor: str = "D1", total_fen: int = 10_000) -> FeedCase:
    return FeedCase(list_id=list_id, active=True, hospital=hospital, hospital_level=3, month="2026-01",
                    psn_no=f"P{list_id}", admission=date(2026, 1, 5), discharge=discharge, los=5, discharge_way="1",
                    department="A", doctor=doctor, groups=groups, total_fen=total_fen)


def test_a_case_is_evaluated_under_the_weights_scheme_else_its_latest_group() -> None:
    cases = [feed_case("a", groups=(("zj", "2", "FM19"), ("chs", "1", "FM11"))),
             feed_case("b", groups=(("zj", "2", "GB11"),)), feed_case("c", groups=()), feed_case("d", doctor="")]
    table, months, schemes = case_table(cases, "chs")
    groups = [table.group_labels[g] for g in table.group.tolist()]
    assert groups == ["FM11", "GB11", "0000", "G1"]
    assert schemes == {"chs@1", "zj@2", "s@1"} and months == ["2026-01"] * 4
    assert table.doctor_labels[int(table.doctor[3])] == "-"  # an empty doctor code is an unknown doctor, kept


def test_a_bad_case_names_its_list() -> None:
    with pytest.raises(FailedPrecondition, match="case b: total_cost must not be negative"):
        case_table([feed_case("a"), feed_case("b", total_fen=-1)], "")


def test_timeliness_counts_the_first_accepted_upload_in_shanghai_days() -> None:
    cases = [feed_case("a", hospital="H1"), feed_case("b", hospital="H1"), feed_case("c", hospital="H2"),
             feed_case("d", hospital="H2")]
    accepted = {"a": datetime(2026, 2, 9, 15, 59, tzinfo=UTC),   # Feb 9 23:59 in Shanghai: day 30, in time
                "b": datetime(2026, 2, 9, 16, 0, tzinfo=UTC),    # Feb 10 00:00 in Shanghai: day 31, late
                "c": datetime(2026, 1, 10, tzinfo=UTC)}          # "d": never accepted in the feed's events
    figures = quality_figures(cases, accepted, 30)
    assert (figures["H1"].lists_accepted, figures["H1"].uploaded_in_time) == (2, 1)
    assert figures["H2"].timeliness == Decimal("0.5000") and figures["ALL"].timeliness == Decimal("0.5000")
    assert figures["ALL"].lists_received is None and figures["ALL"].qc_pass_rate is None


def test_weights_given_with_a_request() -> None:
    assert check_weights([("A", "1.5"), ("B", "0.0001"), ("C", "2")]) == {"A": 15_000, "B": 1, "C": 20_000}
    for weights, field in [([("A", "1"), ("A", "2")], "evaluation_run.weights[1].group"),
                           ([("A", "-1")], "evaluation_run.weights[0].rw"),
                           ([("A", "1.00001")], "evaluation_run.weights[0].rw"),
                           ([("", "1")], "evaluation_run.weights[0].group")]:
        with pytest.raises(InvalidArgument) as raised:
            check_weights(weights)
        assert raised.value.metadata["field"] == field
    assert given_weights({"B": 2, "A": 1}).version == given_weights({"A": 1, "B": 2}).version


def test_the_input_digest_changes_with_any_input_and_not_with_order() -> None:
    weights = WeightTable("w", "", {"G1": 10_000})
    cases = [feed_case("a"), feed_case("b")]
    assert input_digest(cases, weights) == input_digest(cases[::-1], weights)
    assert input_digest(cases, weights) != input_digest([feed_case("a"), feed_case("b", total_fen=10_001)], weights)
    assert input_digest(cases, weights) != input_digest(cases, WeightTable("w", "", {"G1": 10_001}))


def test_payment_figures_per_hospital_and_region() -> None:
    from services.evaluation.domain.indicators.context import SettledCase, payment_figures

    cases = [SettledCase("H1", "high", 150_00, 100_00), SettledCase("H1", "normal", 80_00, 100_00),
             SettledCase("H1", "low", 30_00, 10_00), SettledCase("H2", "special", None, 999_00),
             SettledCase("H2", "by_item", None, 50_00), SettledCase("H2", "normal", 1_00, 0)]
    figures = payment_figures(cases)
    assert figures["H1"].high_outlier_share == Decimal("0.3333") and figures["H1"].surplus_fen == 50_00
    assert figures["H2"].special_cases == 1 and figures["H2"].surplus_fen == 1_00
    assert figures["ALL"].low_outlier_share == Decimal("0.1667") and figures["ALL"].surplus_fen == 51_00


def test_review_figures_per_thousand_lists_rounded_once() -> None:
    from services.evaluation.domain.indicators.context import ReviewCounts, ReviewFigures, review_figures

    figures = review_figures({"H1": ReviewCounts(1, 500), "H9": ReviewCounts(4, 7)}, {"H1": 3, "H2": 6, "H3": 0})
    assert figures["H1"] == ReviewFigures(Decimal("333.3333"), 500)  # 1000/3, half up once
    assert figures["H2"] == ReviewFigures(Decimal("0.0000"), 0)  # evaluated, nothing found
    assert "H3" not in figures and "H9" not in figures  # no lists, no rate; not evaluated, not shown
    assert figures["ALL"] == ReviewFigures(Decimal("111.1111"), 500)  # 1 finding over 9 lists
    assert review_figures({}, {}) == {}


def test_the_qc_pass_rate_is_each_hospitals_passed_attempts_over_received_and_the_regions_over_all() -> None:
    cases = [feed_case("a", hospital="H1"), feed_case("b", hospital="H2"), feed_case("c", hospital="H3")]
    uploads = {"H1": (3, 2), "H2": (7, 7), "H9": (5, 0)}  # H3 uploaded nothing in the window; H9 has no case
    figures = quality_figures(cases, {}, 30, uploads)
    assert (figures["H1"].lists_received, figures["H1"].qc_pass_rate) == (3, Decimal("0.6667"))
    assert (figures["H2"].lists_received, figures["H2"].qc_pass_rate) == (7, Decimal("1.0000"))
    assert (figures["H3"].lists_received, figures["H3"].qc_pass_rate) == (0, None)
    assert (figures["ALL"].lists_received, figures["ALL"].qc_pass_rate) == (15, Decimal("0.6000"))


def test_the_upload_window_runs_from_the_periods_first_day_to_its_last_plus_the_deadline() -> None:
    assert upload_window(EvaluationPeriod.parse("2024-02"), 30) == (date(2024, 2, 1), date(2024, 3, 30))
    assert upload_window(EvaluationPeriod.parse("2026-H2"), 0) == (date(2026, 7, 1), date(2026, 12, 31))
    assert upload_window(EvaluationPeriod.parse("2025"), 30) == (date(2025, 1, 1), date(2026, 1, 30))
