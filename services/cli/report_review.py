"""The review section of the demo report (智能审核): what the after-the-fact review of the month found, by
category and hospital, the rules with their activity and precision, the money at stake and deducted, and three
example flags with their evidence."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .report_settlement import yuan


@dataclass(frozen=True)
class RuleFigures:
    rule_id: str
    version: str
    category: str
    flags: int
    activity: str  # flags per 1,000 lists
    decided: int
    confirmed: int
    precision: str  # "" while none is decided
    amount_fen: int
    confirmed_fen: int


@dataclass(frozen=True)
class ExampleFlag:
    category: str
    rule_id: str
    rule_version: str
    fixmedins_code: str
    setl_id: str
    amount_fen: int
    evidence: str


@dataclass
class ReviewResults:
    fee_uploads: int = 0
    fee_lines: int = 0
    fee_warnings: int = 0  # stays whose details drew a data-quality finding at intake
    run_name: str = ""
    rule_set: str = ""
    run_seconds: float = 0.0
    lists_reviewed: int = 0
    lists_with_details: int = 0
    amount_fen: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    amount_by_category: Counter[str] = field(default_factory=Counter)
    by_hospital: Counter[str] = field(default_factory=Counter)
    flagged_lists: set[tuple[str, str]] = field(default_factory=set)
    planted: Counter[str] = field(default_factory=Counter)  # lists the synthetic truth says carry a category
    found: Counter[str] = field(default_factory=Counter)    # of them, flagged with that category
    rules: list[RuleFigures] = field(default_factory=list)
    deductions: list[tuple[str, int, int]] = field(default_factory=list)  # (institution, fen, flags)
    examples: list[ExampleFlag] = field(default_factory=list)
    confirmed: int = 0
    dismissed: int = 0
    appealed: int = 0
    tenant_check: tuple[str, int, bool] = ("", 0, True)  # (hospital, flags it saw, all its own)

    @property
    def flag_count(self) -> int:
        return sum(self.by_category.values())


def review_kpis(r: ReviewResults) -> list[tuple[str, str]]:
    return [("审核清单 lists reviewed", f"{r.lists_reviewed:,}"), ("疑点 flags", f"{r.flag_count:,}"),
            ("涉及金额 at stake (yuan)", yuan(r.amount_fen)),
            ("扣款 deducted (yuan)", yuan(sum(fen for _, fen, _ in r.deductions)))]


def review_section(r: ReviewResults | None, hospitals: dict[str, str],
                   bars: Callable[[list[tuple[str, int]]], str]) -> str:
    """The section's HTML; ``bars`` is the report's bar chart (rows of label and value -> SVG), so the sections
    look alike."""
    if r is None:
        return ""
    categories = "".join(
        f"<tr><td>{_e(c)}</td><td class='num'>{n:,}</td><td class='num'>{yuan(r.amount_by_category[c])}</td>"
        f"<td class='num'>{_recall(r, c)}</td></tr>" for c, n in r.by_category.most_common())
    rules = sorted(r.rules, key=lambda x: (-x.flags, x.rule_id))[:12]
    rule_rows = "".join(
        f"<tr><td>{_e(x.rule_id)} v{_e(x.version)}</td><td>{_e(x.category)}</td><td class='num'>{x.flags:,}</td>"
        f"<td class='num'>{_e(x.activity)}</td><td class='num'>{x.decided:,}</td><td class='num'>{x.confirmed:,}</td>"
        f"<td class='num'>{_e(x.precision or '–')}</td><td class='num'>{yuan(x.amount_fen)}</td>"
        f"<td class='num'>{yuan(x.confirmed_fen)}</td></tr>" for x in rules)
    deductions = "".join(
        f"<tr><td>{_e(code)}</td><td>{_e(hospitals.get(code, ''))}</td><td class='num'>{n}</td>"
        f"<td class='num'>{yuan(fen)}</td></tr>" for code, fen, n in r.deductions)
    examples = "".join(
        f"<li><b>{_e(x.category)}</b> · {_e(x.rule_id)} v{_e(x.rule_version)} · {_e(x.fixmedins_code)} "
        f"{_e(hospitals.get(x.fixmedins_code, ''))} · list {_e(x.setl_id)} · {yuan(x.amount_fen)} yuan at stake"
        f"<br><span class='evidence'>{_e(x.evidence)}</span></li>" for x in r.examples)
    hospital_bars = [(f"{c} {hospitals.get(c, '')}", n) for c, n in r.by_hospital.most_common()]
    code, seen, own = r.tenant_check
    return f"""
<h2 id="review">智能审核 / smart review of the month (事后监管)</h2>
<p>The hospitals' fee details ({r.fee_uploads:,} stays, {r.fee_lines:,} lines; {r.fee_warnings:,} stays with a
data-quality finding at intake) and the knowledge library went in, the packaged rule set
<code>{_e(r.rule_set)}</code> was activated, and the review run <code>{_e(r.run_name)}</code> read the month's
{r.lists_reviewed:,} lists ({r.lists_with_details:,} with details) from collection's case feed in
{r.run_seconds:.1f}s: {r.flag_count:,} flags on {len(r.flagged_lists):,} lists, {yuan(r.amount_fen)} yuan at
stake. Recall is against the synthetic truth (lists planted with the behaviour that were flagged for it).</p>
<table><tr><th>category</th><th>flags</th><th>at stake (yuan)</th><th>recall</th></tr>{categories}</table>
<h3>flags per hospital</h3>{bars(hospital_bars)}
<h3>rules: activity and precision</h3>
<p>Reviewers took {r.confirmed + r.dismissed:,} flags through the workflow (first review, re-review by a second
reviewer, {r.appealed:,} appeals by the hospitals, the decision): {r.confirmed:,} confirmed, {r.dismissed:,}
dismissed. Activity is flags per 1,000 lists; precision is confirmed / decided, per rule version.</p>
<table><tr><th>rule</th><th>category</th><th>flags</th><th>per 1,000</th><th>decided</th><th>confirmed</th>
<th>precision</th><th>at stake</th><th>confirmed (yuan)</th></tr>{rule_rows}</table>
<h3>deductions for the settlement run</h3>
<table><tr><th>institution</th><th>name</th><th>confirmed flags</th><th>deduction (yuan)</th></tr>
{deductions or "<tr><td colspan='4'>(none confirmed)</td></tr>"}</table>
<p>Tenant scoping: hospital {_e(code)} listing the month's flags saw {seen:,}, {"all" if own else "NOT all"} its
own.</p>
<h3>example flags</h3><ol class="examples">{examples}</ol>"""


def _recall(r: ReviewResults, category: str) -> str:
    planted = r.planted.get(category, 0)
    return f"{r.found[category] / planted:.1%} of {planted:,}" if planted else "–"


def _e(value: object) -> str:
    return html.escape(str(value))
