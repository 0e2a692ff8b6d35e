"""The report's settlement section: exact yuan text, outlier shares rounded half up, a balance chart drawing
negative balances left of the zero line, and the section's tables from a settled year."""

from __future__ import annotations

import re

from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb

from services.cli.demo_settlement import SettlementDemo, SpecialCaseShown
from services.cli.report_settlement import balance_chart, settlement_section, yuan


def test_yuan_is_exact_with_separators() -> None:
    assert [yuan(f) for f in (0, 5, -5, 123456789, -100)] == ["0.00", "0.05", "-0.05", "1,234,567.89", "-1.00"]


def test_the_balance_chart_draws_negative_bars_left_of_zero() -> None:
    svg = balance_chart([("H1", 10_000), ("H2", -5_000), ("H3", 0)])
    xs = [float(x) for x in re.findall(r"<rect x='(-?\d+)'", svg)]
    widths = [float(w) for w in re.findall(r"width='(\d+)' height='16'", svg)]
    assert xs[0] == 560 and xs[1] == 560 - widths[1] and widths[0] == 2 * widths[1] and widths[2] == 1
    assert "-50.00" in svg and balance_chart([]) == "<p>(none)</p>"


def test_the_section_shows_point_value_statements_outliers_and_the_adjustment() -> None:
    money = common_pb2.Money
    clearing = pb.SettlementRun(name="regions/330700/settlementRuns/" + "a" * 32, point_value="12.345678",
                                cases=10, total_balance=money(fen=-1234), statements_digest="f" * 64,
                                case_kinds={"normal": 7, "high": 2, "low": 1})
    statement = pb.HospitalStatement(fixmedins_code="H33070000001", cases=10, points="1234.5000", cmi="1.2345",
                                     gross=money(fen=100_00), assessed=money(fen=99_00), advances=money(fen=50_00),
                                     balance=money(fen=49_00), case_kinds={"normal": 7, "high": 2, "low": 1})
    demo = SettlementDemo("330700", 2024, lists=99, policy="regions/330700/policies/2024-v2", clearing=clearing,
                          statements=[statement], names={"H33070000001": "示例医院"}, revoked="330700L1",
                          revoked_hospital="H33070000001", adjustment=-777, adjusted_in="run-7")
    html = settlement_section(demo)
    assert "12.345678" in html and "示例医院" in html and "49.00" in html and "-12.34" in html
    assert "3 of 10 cases (30.0%)" in html and "-7.77 yuan" in html
    assert "No special case was approved" in html
    assert settlement_section(None) == ""


def test_the_section_lists_each_special_case_with_its_decision_and_how_it_was_cleared() -> None:
    clearing = pb.SettlementRun(name="regions/330700/settlementRuns/" + "b" * 32, point_value="10.000000", cases=40,
                                case_kinds={"normal": 38, "special": 1, "high": 1})
    shown = [SpecialCaseShown("330700L7", "H33070000001", 12_345_678, "2024-05", "high", "812.5000",
                              "long ICU stay", "approved", "the record supports it", "special",
                              "1234.5678"),
             SpecialCaseShown("330700L9", "H33070000002", 99_000_00, "2024-07", "high", "400.0000", "rare",
                              "rejected", "the outlier payment <covers> it", "high", "400.0000")]
    demo = SettlementDemo("330700", 2024, clearing=clearing, special_cases=shown)
    html = " ".join(settlement_section(demo).split())
    assert "1 approved special cases were settled by their cost" in html
    assert ("<td><code>330700L7</code></td><td>H33070000001</td><td class='num'>123,456.78</td>"
            "<td>2024-05: high, 812.5000 points</td><td>approved: the record supports it</td>"
            "<td>special, 1234.5678 points</td>") in html
    assert "rejected: the outlier payment &lt;covers&gt; it" in html and "<td>high, 400.0000 points</td>" in html

