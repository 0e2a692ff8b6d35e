"""The report's review section (issue #10): flags by category and hospital, the rules with activity and
precision, money at stake in exact yuan, and the three example flags with their evidence."""

from __future__ import annotations

import re
from collections import Counter

from services.cli.report_review import ExampleFlag, ReviewResults, RuleFigures, review_kpis, review_section


def _bars(rows: list[tuple[str, int]]) -> str:
    return "".join(f"<bar>{label}={value}</bar>" for label, value in rows)


def _results() -> ReviewResults:
    r = ReviewResults(run_name="regions/330700/reviewRuns/2024-01~medpay-review~2026.1",
                      rule_set="ruleSets/medpay-review/versions/2026.1", lists_reviewed=400, lists_with_details=398,
                      amount_fen=1_234_567_891, confirmed=3, dismissed=1, appealed=1,
                      tenant_check=("H33070200011", 2, True))
    r.by_category = Counter({"duplicate_charge": 5, "split_admission": 2})
    r.amount_by_category = Counter({"duplicate_charge": 1005, "split_admission": 1_234_566_886})
    r.by_hospital = Counter({"H33070200011": 4, "H33070200027": 3})
    r.planted, r.found = Counter({"duplicate_charge": 4}), Counter({"duplicate_charge": 3})
    r.rules = [RuleFigures("RV-DUP-01", "1", "duplicate_charge", 5, "12.5", 4, 3, "0.750", 1005, 805),
               RuleFigures("RV-SPLIT-01", "1", "split_admission", 2, "5.0", 0, 0, "", 1_234_566_886, 0)]
    r.deductions = [("H33070200011", 805, 3)]
    r.examples = [ExampleFlag("duplicate_charge", "RV-DUP-01", "1", "H33070200011", "L1", 1005,
                              "item X charged twice at 2024-01-02 09:00:00 <same quantity>"),
                  ExampleFlag("split_admission", "RV-SPLIT-01", "1", "H33070200027", "L2", 0,
                              "readmitted 3 days after discharge, related diagnosis"),
                  ExampleFlag("restricted_sex", "RV-SEX-01", "1", "H33070200027", "L3", 2000,
                              "item for women charged to a man")]
    return r


def test_the_section_shows_categories_hospitals_rules_money_and_three_examples_with_evidence() -> None:
    page = review_section(_results(), {"H33070200011": "示例医院"}, _bars)
    assert re.search(r"<td>duplicate_charge</td><td class='num'>5</td><td class='num'>10.05</td>"
                     r"<td class='num'>75.0% of 4</td>", page)
    assert "<td>split_admission</td><td class='num'>2</td><td class='num'>12,345,668.86</td>" in page
    assert "<bar>H33070200011 示例医院=4</bar><bar>H33070200027 =3</bar>" in page
    assert re.search(r"<td>RV-DUP-01 v1</td><td>duplicate_charge</td><td class='num'>5</td>"
                     r"<td class='num'>12.5</td><td class='num'>4</td><td class='num'>3</td>"
                     r"<td class='num'>0.750</td><td class='num'>10.05</td><td class='num'>8.05</td>", page)
    assert "<td class='num'>–</td>" in page  # a rule nothing of which is decided has no precision yet
    assert "12,345,678.91 yuan at stake" in " ".join(page.split())
    examples = re.findall(r"<li><b>(\w+)</b>.*?<span class='evidence'>(.*?)</span></li>", page)
    assert [c for c, _ in examples] == ["duplicate_charge", "split_admission", "restricted_sex"]
    assert examples[0][1] == "item X charged twice at 2024-01-02 09:00:00 &lt;same quantity&gt;"  # escaped
    assert "<td>H33070200011</td><td>示例医院</td><td class='num'>3</td><td class='num'>8.05</td>" in page


def test_the_key_figures_are_exact_yuan_and_no_run_means_no_section() -> None:
    assert review_kpis(_results()) == [("审核清单 lists reviewed", "400"), ("疑点 flags", "7"),
                                       ("涉及金额 at stake (yuan)", "12,345,678.91"), ("扣款 deducted (yuan)", "8.05")]
    assert review_section(None, {}, _bars) == ""
