"""The demo's results and its HTML report: tables and charts a bureau officer would read, no server needed."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .report_review import ReviewResults, review_section
from .report_settlement import settlement_section

_STYLE = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2433}h1{font-size:1.6rem}
h2{margin-top:2rem;border-bottom:2px solid #e5e9f2;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.8rem 0}td,th{border:1px solid #d5dbe7;padding:.3rem .6rem;text-align:left}
th{background:#eef1f7}.num{text-align:right}.kpi{display:inline-block;margin:.4rem 1.2rem .4rem 0;padding:.6rem 1rem;
background:#f4f6fb;border-radius:8px}.kpi b{display:block;font-size:1.5rem}.VALID{color:#15803d}
.UNKNOWN{color:#b45309}.MALFORMED{color:#b91c1c}.RETIRED{color:#7e22ce}svg text{font-size:12px}"""


@dataclass
class DemoResults:
    accepted: int = 0
    rejected: int = 0
    grouped: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    reason_examples: dict[str, str] = field(default_factory=dict)
    drgs: Counter[str] = field(default_factory=Counter)
    per_hospital: Counter[str] = field(default_factory=Counter)
    rejected_per_hospital: Counter[str] = field(default_factory=Counter)
    faults_caught: int = 0
    faults_total: int = 0
    drg_names: dict[str, str] = field(default_factory=dict)
    hospitals: dict[str, str] = field(default_factory=dict)
    sample: dict[str, Any] = field(default_factory=dict)
    # Settlement records and the lists that waited for them.
    record_outcomes: Counter[str] = field(default_factory=Counter)
    arrival: Counter[str] = field(default_factory=Counter)  # lists by the status they were acknowledged with
    still_pending: int = 0  # lists still waiting for their record at the end
    records_waiting: int = 0  # records still waiting for their list at the end
    review: ReviewResults | None = None  # the month's after-the-fact review (report_review.py)
    settlement: Any = None  # the settlement stage's results (demo_settlement.SettlementDemo)

    def record(self, request: dict[str, Any], truth: dict[str, Any], reply: dict[str, Any],
               final: tuple[str, str, list[dict[str, str]]] | None = None) -> None:
        """One list: its answer when posted and, when it was stored, its state at the end (status, DRG, and the
        errors it was rejected for when it met its settlement record)."""
        code = request["fixmedins_code"]
        status, drg, errors = final if final is not None else ("", "", [])
        if reply.get("infcode") != 0:
            status, errors = "REJECTED", (reply.get("output") or {}).get("findings", [])
        elif final is None:
            status, drg = "ACTIVE", (reply.get("output") or {}).get("drg", "")
        if status == "PENDING":
            return  # neither accepted nor rejected yet (counted in still_pending)
        rejected = status == "REJECTED"
        if truth["faults"]:
            self.faults_total += 1
            self.faults_caught += rejected
        if rejected:
            self.rejected += 1
            self.rejected_per_hospital[code] += 1
            for f in errors:
                self.reasons[f["code"]] += 1
                self.reason_examples.setdefault(f["code"], f"{f['field']}: {f.get('message_en', '')}")
            return
        self.accepted += 1
        self.per_hospital[code] += 1
        self.drgs[drg] += 1
        self.grouped += drg not in ("", "0000")

    def grouping_rate(self) -> float:
        return self.grouped / self.accepted if self.accepted else 0.0

    def fault_agreement(self) -> float:
        return self.faults_caught / self.faults_total if self.faults_total else 1.0

    def top_drgs(self, n: int = 12) -> list[str]:
        return [d for d, _ in self.drgs.most_common(n) if d]


def write_report(out: Path, r: DemoResults, *, outcomes: list[Any], seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    posted = r.accepted + r.rejected
    kpis = "".join(f"<div class='kpi'>{label}<b>{value}</b></div>" for label, value in (
        ("上传清单 lists posted", f"{posted:,}"), ("通过质控 accepted", f"{r.accepted:,}"),
        ("质控拒收 rejected", f"{r.rejected:,}"), ("入组率 grouping rate", f"{r.grouping_rate():.1%}"),
        ("吞吐 throughput", f"{posted / max(r.seconds, 1e-9):,.0f} /s")))
    reasons = "".join(f"<tr><td>{_e(code)}</td><td class='num'>{n}</td><td>{_e(r.reason_examples[code])}</td></tr>"
                      for code, n in r.reasons.most_common(10))
    drgs = [(d, r.drgs[d]) for d in r.top_drgs(15)]
    hospitals = sorted(r.per_hospital.items(), key=lambda kv: -kv[1])
    page = f"""<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>medpay 数据采集月报 demo</title>
<style>{_STYLE}</style>
<h1>结算清单数据采集月报 · settlement-list intake, one synthetic month</h1>
<p>{datetime.now():%Y-%m-%d %H:%M} · generated by <code>medpay demo</code> in {seconds:.1f}s · lists posted
through the national interface (4101A) with quality control and CHS-DRG grouping</p>{kpis}
<h2>质控拒收原因 / why lists were rejected</h2>
<p>{r.faults_caught:,} of {r.faults_total:,} lists with injected data-quality faults were rejected
({r.fault_agreement():.1%}).</p>
<table><tr><th>rule</th><th>lists</th><th>example</th></tr>{reasons}</table>
<h2>结算记录与待匹配清单 / settlement records and lists waiting for them</h2>
<p>The core system sent {sum(r.record_outcomes.values()):,} settlement records
({", ".join(f"{n:,} {k.lower()}" for k, n in sorted(r.record_outcomes.items()))}).
{r.arrival["PENDING"]:,} lists arrived before their record and were acknowledged as <b>pending</b>, then checked
and grouped when it came; {r.arrival["ACTIVE"]:,} found their record and were grouped on arrival. At the end
{r.still_pending:,} lists still wait for their record and {r.records_waiting:,} records for their list.</p>
{_bars([("lists pending on arrival", r.arrival["PENDING"]), ("lists grouped on arrival", r.arrival["ACTIVE"]),
        ("lists rejected on arrival", r.arrival["REJECTED"]), ("lists still pending", r.still_pending),
        ("records waiting for their list", r.records_waiting)])}
{review_section(r.review, r.hospitals, _bars)}
<h2>主要病组 / top DRGs</h2>{_bars([(f"{d} {r.drg_names.get(d, '')}", n) for d, n in drgs])}
<h2>各医院病例数 / cases per hospital</h2>
{_bars([(f"{c} {r.hospitals.get(c, '')}", n) for c, n in hospitals])}
<table><tr><th>institution</th><th>name</th><th>accepted</th><th>rejected</th></tr>
{"".join(f"<tr><td>{_e(c)}</td><td>{_e(r.hospitals.get(c, ''))}</td><td class='num'>{n}</td>"
         f"<td class='num'>{r.rejected_per_hospital.get(c, 0)}</td></tr>" for c, n in hospitals)}</table>
{settlement_section(r.settlement)}
<h2>样例清单编码校验 / the sample list's codes (ValidateCodes over gRPC)</h2>
<table><tr><th>field</th><th>code</th><th>system</th><th>status</th><th>reason</th></tr>
{"".join(f"<tr><td>{_e(p)}</td><td>{_e(c)}</td><td>{_e(s)}</td><td class='{st}'>{st}</td><td>{_e(why)}</td></tr>"
         for p, c, s, st, why in r.sample.get("validations", []))}</table>
<h2>代码标准 / code tables</h2>
<table><tr><th>system</th><th>version</th><th>this run</th><th>codes</th></tr>
{"".join(f"<tr><td>{_e(o.system_id)}</td><td>{_e(o.version)}</td><td>{_e(o.outcome)}</td>"
         f"<td class='num'>{o.code_count:,}</td></tr>" for o in outcomes)}</table></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _bars(rows: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG (no scripts, prints well)."""
    if not rows:
        return "<p>(none)</p>"
    top = max(n for _, n in rows)
    height = 22 * len(rows) + 8
    bars = "".join(
        f"<text x='0' y='{22 * i + 16}'>{_e(label[:34])}</text>"
        f"<rect x='260' y='{22 * i + 4}' width='{max(1, 520 * n / top):.0f}' height='16' fill='#3b82f6'/>"
        f"<text x='{266 + 520 * n / top:.0f}' y='{22 * i + 16}'>{n}</text>" for i, (label, n) in enumerate(rows))
    return f"<svg width='860' height='{height}' role='img'>{bars}</svg>"


def _e(value: object) -> str:
    return html.escape(str(value))
