"""The report's settlement section: the year's point value, each hospital's points, CMI, gross, advances and
balance (a table and a chart of balances), outlier shares, special cases, and the months advanced with the
adjustment a revoked list caused. Plain HTML and inline SVG, like the rest of the report."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medpay.settlement.v1 import settlement_pb2 as pb

    from .demo_settlement import SettlementDemo

OUTLIER_KINDS = ("high", "low")


def yuan(fen: int) -> str:
    """Fen as yuan with thousands separators, exactly (no float): ``-123456789 -> "-1,234,567.89"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}"


def outlier_share(statement: pb.HospitalStatement) -> tuple[int, int, int]:
    """(high, low, all) cases of a statement."""
    kinds = statement.case_kinds
    return kinds.get("high", 0), kinds.get("low", 0), sum(kinds.values())


def settlement_section(demo: SettlementDemo | None) -> str:
    if demo is None:
        return ""
    run = demo.clearing
    statements = sorted(demo.statements, key=lambda s: s.fixmedins_code)
    kinds = dict(run.case_kinds)
    outliers = sum(kinds.get(k, 0) for k in OUTLIER_KINDS)
    total = sum(kinds.values())
    kpis = "".join(f"<div class='kpi'>{label}<b>{value}</b></div>" for label, value in (
        ("点值 point value (yuan/point)", run.point_value), ("预付点值 provisional", run.provisional_point_value),
        ("总点数 total points", run.total_points), ("统筹支付比例 fund ratio", run.fund_ratio),
        ("病例 cases", f"{run.cases:,}"), ("清算余额 balance", yuan(run.total_balance.fen))))
    rows = "".join(
        f"<tr><td>{_e(s.fixmedins_code)}</td><td>{_e(demo.names.get(s.fixmedins_code, ''))}</td>"
        f"<td class='num'>{s.cases:,}</td><td class='num'>{_e(s.points)}</td><td class='num'>{_e(s.cmi)}</td>"
        f"<td class='num'>{yuan(s.gross.fen)}</td><td class='num'>{yuan(s.assessed.fen)}</td>"
        f"<td class='num'>{yuan(s.advances.fen)}</td><td class='num'>{yuan(s.deductions.fen)}</td>"
        f"<td class='num'>{yuan(s.review_deductions.fen)}</td>"
        f"<td class='num'>{yuan(s.balance.fen)}</td><td class='num'>{_share(*outlier_share(s))}</td>"
        f"<td class='num'>{s.case_kinds.get('special', 0)}</td></tr>" for s in statements)
    months = "".join(
        f"<tr><td>{r.settlement_period.year}-{r.settlement_period.month:02d}</td><td class='num'>{r.cases:,}</td>"
        f"<td class='num'>{yuan(r.total_advances.fen)}</td><td class='num'>{yuan(r.total_adjustments.fen)}</td>"
        f"<td class='num'>{yuan(r.total_balance.fen)}</td></tr>" for r in demo.advances)
    adjusted = (f"<p>List <code>{_e(demo.revoked)}</code> of {_e(demo.revoked_hospital)} was revoked after its month "
                f"(March) had been advanced; the next run, <code>{_e(demo.adjusted_in)}</code>, settled it as an "
                f"adjustment of {yuan(demo.adjustment)} yuan, leaving March's run as it was.</p>"
                if demo.adjusted_in else "")
    specials = kinds.get("special", 0)
    return f"""<h2>支付结算 / settlement of {demo.year}: point value, advances and year-end clearing</h2>
<p>Policy <code>{_e(demo.policy)}</code>, weight table <code>{_e(demo.weight_table.name)}</code>
({demo.weight_table.groups} groups from {demo.weight_table.base_cases:,} cases of the base years, avg_all
{_e(demo.weight_table.avg_all)} yuan), {demo.lists:,} synthetic lists of three years. Twelve monthly advances at the
provisional point value, then the year-end clearing <code>{_e(run.name)}</code> at the point value the budget
gives; statements digest <code>{_e(run.statements_digest[:16])}</code>.</p>{kpis}
<h3>各医院清算 / hospital statements</h3>
<table><tr><th>institution</th><th>name</th><th>cases</th><th>points</th><th>CMI</th><th>gross</th>
<th>assessed</th><th>advances</th><th>deductions</th><th>of which review</th><th>balance</th><th>outliers</th>
<th>special</th></tr>{rows}</table>{_review_paragraph(demo)}
<h3>清算余额 / balance by hospital (yuan; below zero: owed back)</h3>
{balance_chart([(f"{s.fixmedins_code} {demo.names.get(s.fixmedins_code, '')}", s.balance.fen) for s in statements])}
<h3>高低倍率病例 / outlier shares</h3>
<p>{outliers:,} of {total:,} cases ({_share(outliers, 0, total)}) were paid as outliers: {kinds.get('high', 0):,}
high, {kinds.get('low', 0):,} low; {kinds.get('by_item', 0):,} by item (ungroupable or unweighted groups).</p>
<h3>特病单议 / special cases</h3>
<p>{f"{specials:,} approved special cases were settled by their cost (points = cost / avg_all x scale), within "
    f"the cap of the policy's share of the year's cases." if specials else
   "No special case was approved for this year: every case was paid by its group."}</p>{_special_table(demo)}
<h3>月度预付 / monthly advances</h3>{adjusted}
<table><tr><th>month</th><th>cases</th><th>advances</th><th>adjustments</th><th>paid</th></tr>{months}</table>"""


def _special_table(demo: SettlementDemo) -> str:
    """Each application: the stay as its month's advance paid it, the bureau's decision, the stay in the clearing."""
    if not demo.special_cases:
        return ""
    rows = "".join(
        f"<tr><td><code>{_e(c.setl_list_id)}</code></td><td>{_e(c.fixmedins_code)}</td>"
        f"<td class='num'>{yuan(c.total_cost)}</td><td>{_e(c.month)}: {_e(c.advance_kind)}, "
        f"{_e(c.advance_points)} points</td><td>{_e(c.decision)}: {_e(c.note)}</td>"
        f"<td>{_e(c.clearing_kind)}, {_e(c.clearing_points)} points</td></tr>" for c in demo.special_cases)
    return ("<table><tr><th>list</th><th>institution</th><th>cost</th><th>advanced as</th><th>bureau</th>"
            f"<th>cleared as</th></tr>{rows}</table>")


def _review_paragraph(demo: SettlementDemo) -> str:
    """How the clearing's deductions came from smart review (the demo's review of the year before clearing)."""
    r, run = demo.review, demo.clearing
    if r is None:
        return ""
    hospitals = sum(1 for s in demo.statements if s.review_deductions.fen)
    return (f"<p>智能审核扣款 / review deductions: before the clearing, review run <code>{_e(r.run_name)}</code> "
            f"(rules <code>{_e(r.rule_set)}</code>) went over the year's {r.lists:,} lists and raised {r.flags:,} "
            f"flags; the bureau took some through first review, re-review and the hospitals' appeals: "
            f"{r.confirmed} confirmed, {r.dismissed} dismissed. The settlement service read the confirmed amounts "
            f"from review itself when the clearing started and pinned them in the run: "
            f"{yuan(run.total_review_deductions.fen)} yuan deducted from {hospitals} hospital(s), posted to the "
            f"adjustment fund.</p>")


def balance_chart(rows: list[tuple[str, int]]) -> str:
    """Horizontal bars from a zero line (negative to the left), as inline SVG."""
    if not rows:
        return "<p>(none)</p>"
    top = max(abs(v) for _, v in rows) or 1
    zero, half = 560, 240
    bars = []
    for i, (label, fen) in enumerate(rows):
        width = max(1.0, half * abs(fen) / top)
        x = zero if fen >= 0 else zero - width
        colour = "#16a34a" if fen >= 0 else "#dc2626"
        bars.append(f"<text x='0' y='{22 * i + 16}'>{_e(label[:36])}</text>"
                    f"<rect x='{x:.0f}' y='{22 * i + 4}' width='{width:.0f}' height='16' fill='{colour}'/>"
                    f"<text x='{zero + half + 8}' y='{22 * i + 16}'>{yuan(fen)}</text>")
    height = 22 * len(rows) + 8
    axis = f"<line x1='{zero}' y1='0' x2='{zero}' y2='{height}' stroke='#64748b'/>"
    return f"<svg width='960' height='{height}' role='img'>{axis}{''.join(bars)}</svg>"


def _share(part: int, other: int, total: int) -> str:
    n = part + other
    if not total:
        return "-"
    tenths = (2000 * n + total) // (2 * total)  # per mille, half up
    return f"{tenths // 10}.{tenths % 10}%"


def _e(value: object) -> str:
    return html.escape(str(value))
