"""Settlement runs as pure computation: a month's advances are FORMAT's, a list revised or revoked after its
month was advanced is settled as an adjustment of exactly the difference, the clearing pays the assessed amount
less what was advanced, and the same inputs give the same statement bytes in any order."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from medpay.settlement.v1 import settlement_pb2 as pb

from services.settlement.adapters.run_repository import StoredRun
from services.settlement.api.mapping import settlement_run_to_proto
from services.settlement.domain.calculation import settle
from services.settlement.domain.collected import EMPTY_DIGEST, CollectedCase, case_table, cases_digest
from services.settlement.domain.errors import CalculationError
from services.settlement.domain.policies import GroupScheme
from services.settlement.domain.policy import policy_from_json
from services.settlement.domain.runs import Paid, RunInputs, RunType, advance, clearing, month_advances
from services.settlement.domain.weights import GroupWeight, LevelBasis, WeightTable
from services.settlement.run_cli import print_run

POLICY = policy_from_json({
    "method": "points", "scale": 100, "weights": {"years": [2025]}, "levels": {"2": {"coefficient": "0.9"},
                                                                               "3": {}},
    "budget": "500000.00", "provisional_point_value": "55.5", "advance_share": "0.9",
    "hospitals": {"H33070000002": {"assessment": "0.95", "deductions": "100.00"}}})
WEIGHTS = WeightTable({"A1": GroupWeight("A1", 10, 7500, 200000, "data"),
                       "B1": GroupWeight("B1", 10, 15000, 400000, "data")}, Fraction(800000, 300))
INPUTS = RunInputs(POLICY, WEIGHTS, GroupScheme.DRG)
H1, H2, H3 = "H33070000001", "H33070000002", "H33070000003"


def case(n: int, hospital: str, month: str, cost: int, *, group: str = "A1", revision: int = 1,
         active: bool = True, level: int = 3, dip: str | None = None) -> CollectedCase:
    year, mon = (int(x) for x in month.split("-"))
    discharge = date(year, mon, 10) + timedelta(days=n % 15)
    groups = ((GroupScheme.DRG, "chs-drg-1.1", group),) + (((GroupScheme.DIP, "dip-x", dip),) if dip else ())
    return CollectedCase(f"330700L{n:016d}", revision, active, hospital, level, month, f"P{n}",
                         discharge - timedelta(days=4), discharge, groups, cost, cost * 7 // 10, cost * 3 // 10)


def month_cases(month: str, start: int) -> list[CollectedCase]:
    rng = random.Random(start)
    return [case(start + i, rng.choice((H1, H2, H3)), month, rng.randrange(50_000, 900_000),
                 group=rng.choice(("A1", "B1", "0000")), level=rng.choice((2, 3))) for i in range(40)]


def test_a_months_advances_are_formats_advances_of_its_cases() -> None:
    cases = month_cases("2026-01", 0)
    outcome = advance(INPUTS, "2026-01", cases, {})
    direct = settle(POLICY, WEIGHTS, case_table(cases, GroupScheme.DRG))
    assert {s.hospital: s.advances for s in outcome.statements} == {h.hospital: h.advances for h in direct.hospitals}
    for s in outcome.statements:
        assert (s.gross, s.assessed, s.adjustments, s.balance) == (0, 0, 0, s.advances)
        assert [(m.month, m.kind, m.amount) for m in s.months] == [("2026-01", "advance", s.advances)]
    assert len(outcome.cases) == len(cases)


def _paid_after(outcome_month: str, cases: list[CollectedCase]) -> dict[tuple[str, str], Paid]:
    outcome = advance(INPUTS, outcome_month, cases, {})
    return {(s.hospital, m.month): Paid(m.amount, m.cases_digest) for s in outcome.statements for m in s.months}


def test_a_revoked_list_of_an_advanced_month_is_an_adjustment_of_the_difference_in_the_next_run() -> None:
    january = month_cases("2026-01", 0)
    paid = _paid_after("2026-01", january)
    revoked = january[3]
    january_now = [c if c is not revoked else case(3, c.hospital, "2026-01", c.total_fen, group=c.group(
        GroupScheme.DRG), active=False, level=c.hospital_level) for c in january]
    february = month_cases("2026-02", 100)
    outcome = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid), "2026-02", february,
                      {"2026-01": january_now})
    recomputed = month_advances(INPUTS, [c for c in january_now if c.active])
    by_hospital = {s.hospital: s for s in outcome.statements}
    touched = by_hospital[revoked.hospital]
    [line] = [m for m in touched.months if m.kind == "adjustment"]
    assert line.month == "2026-01"
    assert line.amount == recomputed[revoked.hospital] - paid[(revoked.hospital, "2026-01")].amount
    assert line.amount < 0
    assert touched.adjustments == line.amount and touched.balance == touched.advances + line.amount
    for other in set(by_hospital) - {revoked.hospital}:
        assert by_hospital[other].adjustments == 0
        assert all(m.kind == "advance" for m in by_hospital[other].months)


def test_unchanged_earlier_months_are_not_adjusted_and_a_revised_list_is() -> None:
    january = month_cases("2026-01", 0)
    paid = _paid_after("2026-01", january)
    quiet = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid), "2026-02", month_cases("2026-02", 100),
                    {"2026-01": january})
    assert all(s.adjustments == 0 and all(m.kind == "advance" for m in s.months) for s in quiet.statements)
    revised = list(january)
    old = revised[5]
    revised[5] = case(5, old.hospital, "2026-01", old.total_fen * 3, group=old.group(GroupScheme.DRG), revision=2,
                      level=old.hospital_level)
    loud = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid), "2026-02", month_cases("2026-02", 100),
                   {"2026-01": revised})
    lines = [(s.hospital, m) for s in loud.statements for m in s.months if m.kind == "adjustment"]
    assert [h for h, _ in lines] == [old.hospital]
    assert lines[0][1].cases_digest == cases_digest([c for c in revised if c.hospital == old.hospital], GroupScheme.DRG)


def test_a_stay_whose_settlement_record_was_revised_after_its_month_was_paid_is_adjusted() -> None:
    """The core system revises a stay's record: the list keeps its revision, the case its money or its group
    (the record's person regroups it). Either is an adjustment; a DIP regrouping under a DRG policy is not."""
    january = month_cases("2026-01", 0)
    paid = _paid_after("2026-01", january)
    inputs = RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid)
    old = january[7]
    for revised_case in (replace(old, total_fen=old.total_fen * 9),
                         replace(old, groups=((GroupScheme.DRG, "chs-drg-1.1", "B1" if old.group(GroupScheme.DRG)
                                                                             != "B1" else "A1"),))):
        assert revised_case.revision == old.revision
        now = [revised_case if c is old else c for c in january]
        outcome = advance(inputs, "2026-02", [], {"2026-01": now})
        lines = [(s.hospital, m) for s in outcome.statements for m in s.months if m.kind == "adjustment"]
        assert [h for h, _ in lines] == [old.hospital]
        expected = month_advances(INPUTS, now)[old.hospital] - paid[(old.hospital, "2026-01")].amount
        assert lines[0][1].amount == expected != 0
    dip = [replace(c, groups=((GroupScheme.DIP, "dip-x", "K35.3|47.0100"), *c.groups)) for c in january]
    assert not advance(inputs, "2026-02", [], {"2026-01": dip}).statements


def test_a_hospital_whose_every_list_of_a_month_was_revoked_pays_the_advance_back() -> None:
    january = [case(1, H1, "2026-01", 300_000), case(2, H2, "2026-01", 300_000, group="B1")]
    paid = _paid_after("2026-01", january)
    gone = [january[0], case(2, H2, "2026-01", 300_000, group="B1", active=False)]
    outcome = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid), "2026-02", [], {"2026-01": gone})
    [statement] = outcome.statements
    assert statement.hospital == H2 and statement.cases == 0
    assert statement.balance == -paid[(H2, "2026-01")].amount
    assert statement.months[0].cases_digest == EMPTY_DIGEST


def test_clearing_pays_the_assessed_amount_less_advances_and_deductions() -> None:
    year = month_cases("2026-01", 0) + month_cases("2026-02", 100)
    paid = {(H1, "2026-01"): Paid(123_456), (H2, "2026-01"): Paid(10_000), ("H33070000009", "2026-02"): Paid(500)}
    outcome = clearing(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, paid=paid), year)
    direct = {h.hospital: h for h in settle(POLICY, WEIGHTS, case_table(year, GroupScheme.DRG)).hospitals}
    by_hospital = {s.hospital: s for s in outcome.statements}
    for code, h in direct.items():
        s = by_hospital[code]
        advanced = sum(p.amount for (hh, _), p in paid.items() if hh == code)
        assert (s.gross, s.assessed, s.deductions, s.points, s.cmi) == (h.gross, h.assessed, h.deductions, h.points,
                                                                        h.cmi)
        assert (s.advances, s.balance) == (advanced, h.assessed - advanced - h.deductions)
    assert by_hospital[H2].deductions == 10_000
    assert by_hospital["H33070000009"].balance == -500
    assert outcome.point_value is not None and outcome.total_points == sum(h.points or 0 for h in direct.values())


def test_the_clearing_deducts_what_review_confirmed_besides_the_policys_deductions() -> None:
    year = month_cases("2026-01", 0) + month_cases("2026-02", 100)
    plain = {s.hospital: s for s in clearing(INPUTS, year).statements}
    review = {H1: 7_000, H2: 1_234, "H33070000009": 500, H3: 0}  # H...9: confirmed flags, no active case left
    outcome = clearing(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, review_deductions=review), year)
    by_hospital = {s.hospital: s for s in outcome.statements}
    assert (by_hospital[H2].deductions, by_hospital[H2].review_deductions) == (10_000 + 1_234, 1_234)
    assert by_hospital[H1].deductions == 7_000 and by_hospital[H3].deductions == 0
    for code in (H1, H2, H3):
        s = by_hospital[code]
        assert s.balance == plain[code].balance - review[code]
        assert (s.gross, s.assessed, s.points) == (plain[code].gross, plain[code].assessed, plain[code].points)
    lone = by_hospital["H33070000009"]
    assert (lone.cases, lone.deductions, lone.balance) == (0, 500, -500)
    header = {"region": "330700", "period": "2026"}
    assert b'"review_deductions":"12.34"' in by_hospital[H2].document(header)
    assert b"review_deductions" not in by_hospital[H3].document(header)  # runs without them keep their bytes
    assert b"review_deductions" not in plain[H2].document(header)
    assert outcome.totals()["deductions"] == "187.34"  # 100.00 of the policy + 87.34 confirmed


def test_the_same_inputs_in_any_order_give_the_same_statement_bytes() -> None:
    year = month_cases("2026-01", 0) + month_cases("2026-02", 100)
    header = {"region": "330700", "period": "2026"}
    first = [s.document(header) for s in clearing(INPUTS, year).statements]
    shuffled = list(year)
    random.Random(7).shuffle(shuffled)
    assert [s.document(header) for s in clearing(INPUTS, shuffled).statements] == first
    assert b'"balance":' in first[0] and first[0].startswith(b"{")


def test_dip_policies_pay_by_each_cases_dip_group() -> None:
    dip_policy = policy_from_json({"method": "points", "scale": 1000, "weights": {"years": [2025]},
                                   "levels": {"3": {}}, "budget": "100000.00"})
    weights = WeightTable({"D-1": GroupWeight("D-1", 5, 5000, 100000, "data")}, Fraction(200000, 1))
    cases = [case(1, H1, "2026-01", 100_000, group="A1", dip="D-1"), case(2, H1, "2026-01", 100_000, group="A1")]
    outcome = clearing(RunInputs(dip_policy, weights, GroupScheme.DIP), cases)
    by_list = {c.list_id: c for c in outcome.cases}
    assert (by_list[cases[0].list_id].group, by_list[cases[0].list_id].base_points) == ("D-1", 500 * 10_000)
    assert by_list[cases[1].list_id].group == "0000" and by_list[cases[1].list_id].kind.label == "by_item"


def test_a_case_without_a_hospital_level_is_refused_naming_the_hospital() -> None:
    with pytest.raises(CalculationError) as refused:
        clearing(INPUTS, [case(1, H1, "2026-01", 100_000, level=0)])
    assert refused.value.subject == f"hospital {H1}"


def test_every_case_carries_the_terms_of_its_formula() -> None:
    cases = [case(1, H1, "2026-01", 200_000), case(2, H1, "2026-01", 2_000_000), case(3, H1, "2026-01", 10_000),
             case(4, H1, "2026-01", 99_000, group="0000")]
    outcome = clearing(INPUTS, cases)
    kinds = {c.list_id[-1]: (c.kind.label, c.terms) for c in outcome.cases}
    assert kinds["1"][0] == "normal" and kinds["1"][1]["base_points"] == "75.0000"
    assert kinds["2"][0] == "high" and kinds["2"][1]["k"] == "3" and kinds["2"][1]["standard_cost"] == "2000.00"
    assert kinds["3"][0] == "low" and "total_cost / standard_cost" in kinds["3"][1]["formula"]
    assert kinds["4"][0] == "by_item" and kinds["4"][1]["avg_all"] == "2666.666667"


def test_the_next_run_deducts_what_review_confirmed_after_a_clearing_and_names_the_year() -> None:
    """2026 was cleared; flags of it confirmed since are deducted by 2027-01's advance (an adjustment-like line of
    the next run): a hospital with cases there and one with none; the others' statements keep their bytes."""
    cases = month_cases("2027-01", 300)
    plain = {s.hospital: s for s in advance(INPUTS, "2027-01", cases, {}).statements}
    carried = {"2026": {H1: 2_500, "H33070000009": 700}, "2025": {H1: 100}}
    outcome = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, review_carried=carried), "2027-01", cases, {})
    by_hospital = {s.hospital: s for s in outcome.statements}
    one = by_hospital[H1]
    assert (one.advances, one.deductions, one.review_deductions) == (plain[H1].advances, 2_600, 2_600)
    assert one.balance == plain[H1].balance - 2_600 and one.review_carried == (("2025", 100), ("2026", 2_500))
    lone = by_hospital["H33070000009"]
    assert (lone.cases, lone.advances, lone.deductions, lone.balance, lone.months) == (0, 0, 700, -700, ())
    header = {"region": "330700", "period": "2027-01"}
    assert b'"review_carried":{"2025":"1.00","2026":"25.00"}' in one.document(header)
    assert by_hospital[H2].document(header) == plain[H2].document(header)
    assert outcome.totals()["deductions"] == "33.00"
    cleared = clearing(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, review_deductions={H1: 1_000},
                                 review_carried={"2026": {H1: 2_500}}), month_cases("2027-02", 400))
    mine = next(s for s in cleared.statements if s.hospital == H1)  # a clearing carries too, besides its own year
    assert (mine.review_deductions, mine.review_carried) == (3_500, (("2026", 2_500),))


def test_what_is_carried_is_what_review_confirmed_less_what_any_run_deducted_never_less_than_nothing() -> None:
    from services.settlement.service_layer import review

    clearing_2026 = ("2026", True, {review.PARAMETER: {H1: "10.00", H2: "5.00"}})
    january = ("2027-01", False, {review.CARRIED: review.by_year_text({"2026": {H1: 300}})})
    advance_2026 = ("2026-03", False, {})  # a month of the year deducts nothing of it
    done = review.deducted([clearing_2026, advance_2026, january])
    assert done == {"2026": {H1: 1_300, H2: 500}}
    confirmed = {"2026": {H1: 1_300, H2: 900, H3: 50}, "2025": {H1: 40}}
    assert review.to_carry(confirmed, done) == {"2025": {H1: 40}, "2026": {H2: 400, H3: 50}}
    assert review.to_carry({"2026": {H1: 1_000}}, done) == {}  # read before another run carried more: nothing back
    totals = {review.PARAMETER: {H1: "1.00"}, review.CARRIED: {"2025": {H1: "2.00", H2: "0.50"}}}
    assert review.review_fen(totals) == {H1: 300, H2: 50}


def test_runs_do_not_hold_approved_special_cases_to_a_cap_of_their_own_cases() -> None:
    """The bureau approves within the cap of the year's cases (service_layer/special_cases.py); a month of 40
    cases has a cap of floor(0.05 x 40) = 2 of its own, and its advance (or an adjustment recomputing it) must
    not fail because three of the year's approvals fell in it; nor may a clearing whose year lost lists after
    the approvals (here: a year of the 40 only)."""
    january = month_cases("2026-01", 0)
    approved = frozenset(c.list_id for c in january[:3])
    inputs = RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, approved=approved)
    outcome = advance(inputs, "2026-01", january, {})
    kinds = {c.list_id: c.kind.label for c in outcome.cases}
    assert [kinds[i] for i in sorted(approved)] == ["special"] * 3
    paid = {(s.hospital, m.month): Paid(m.amount, m.cases_digest) for s in outcome.statements for m in s.months}
    revised = [case(0, january[0].hospital, "2026-01", january[0].total_fen + 100, revision=2,
                    group=january[0].group(GroupScheme.DRG), level=january[0].hospital_level), *january[1:]]
    later = advance(RunInputs(POLICY, WEIGHTS, GroupScheme.DRG, approved=approved, paid=paid), "2026-02",
                    month_cases("2026-02", 100), {"2026-01": revised})
    assert any(m.kind == "adjustment" for s in later.statements for m in s.months)
    year = [*january, *(c for m in range(2, 13) for c in month_cases(f"2026-{m:02d}", 100 * m))]
    assert sum(c.kind.label == "special" for c in clearing(inputs, year).cases) == 3
    assert sum(c.kind.label == "special" for c in clearing(inputs, january).cases) == 3


def test_the_rate_method_advances_due_x_share_and_clears_due_less_advances_with_the_surplus_shown() -> None:
    """费率法 through the runs: level 3's rate from the table's level basis (S_cost 8,000.00 over S_rw 3.0000:
    2666.67, x adjust 0.9 = 2400.00); A1's standard round_2(0.75 x 2400.00) = 1800.00 (x 0.9 at level 2)."""
    policy = policy_from_json({
        "method": "rate", "weights": {"years": [2025]}, "levels": {"2": {"coefficient": "0.9"}, "3": {}},
        "rates": {"adjust": "0.9", "fixed": {"2": "2000.00"}}, "advance_share": "0.85",
        "hospitals": {H2: {"assessment": "0.95", "deductions": "100.00"}}})
    weights = WeightTable(WEIGHTS.groups, WEIGHTS.avg_all, {3: LevelBasis(800_000, 30_000)})
    inputs = RunInputs(policy, weights, GroupScheme.DRG)
    months = {m: month_cases(m, 40 * i) for i, m in enumerate(("2026-01", "2026-02"))}
    paid: dict[tuple[str, str], Paid] = {}
    for month, cases in months.items():
        outcome = advance(replace(inputs, paid=paid), month, cases, {})
        direct = settle(policy, weights, case_table(cases, GroupScheme.DRG))
        assert {s.hospital: s.advances for s in outcome.statements} == {h.hospital: h.advances
                                                                        for h in direct.hospitals}
        for h in direct.hospitals:  # one discharge month: round_2(due x 0.85)
            assert h.advances == (2 * h.gross * 85 + 100) // 200
        paid |= {(s.hospital, m.month): Paid(m.amount, m.cases_digest) for s in outcome.statements for m in s.months}
    year = [c for cases in months.values() for c in cases]
    cleared = clearing(replace(inputs, paid=paid), year)
    direct = {h.hospital: h for h in settle(policy, weights, case_table(year, GroupScheme.DRG)).hospitals}
    assert cleared.rates == {"2": 200_000, "3": 240_000}
    for s in cleared.statements:
        h = direct[s.hospital]
        advanced = sum(p.amount for (code, _), p in paid.items() if code == s.hospital)
        assert (s.points, s.gross, s.assessed, s.surplus) == (None, h.gross, h.assessed, h.surplus)
        assert s.balance == s.assessed - advanced - s.deductions and s.advances == advanced
    normal = next(c for c in cleared.cases if c.kind.label == "normal" and c.rw == 7500)
    assert normal.terms["formula"].startswith("standard = round_2(rw x rate x coefficient)")
    assert normal.standard == (180_000 if normal.terms["rate"] == "2400.00" else 135_000)
    assert normal.points is None and normal.fund_due is not None


def test_a_rate_method_run_shows_each_levels_rate(capsys: pytest.CaptureFixture[str]) -> None:
    """The run resource carries FORMAT's rate_L of each level its cases use (summary.json's ``rates``), and the
    command line prints them where a point-method run prints its point value."""
    policy = policy_from_json({"method": "rate", "weights": {"years": [2025]}, "levels": {"2": {}, "3": {}},
                               "rates": {"fixed": {"2": "2000.00", "3": "2400.50"}}})
    outcome = clearing(RunInputs(policy, WEIGHTS, GroupScheme.DRG), month_cases("2026-01", 0))
    stored = StoredRun("r1", "330700", "2026", RunType.CLEARING, "p", "w", 1, "rate", len(outcome.cases),
                       len(outcome.statements), None, None, None, 0, outcome.totals(), "d" * 64, None)
    message = settlement_run_to_proto(None, stored)
    assert {level: rate.fen for level, rate in message.level_rates.items()} == {"2": 200_000, "3": 240_050}
    assert message.method == pb.PAYMENT_METHOD_RATE and not message.point_value
    print_run(message, [])
    assert "rates level 2 2000.00, level 3 2400.50" in capsys.readouterr().out
