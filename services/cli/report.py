"""The demo's HTML report: what a bureau officer would read, readable without any server."""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb

_STYLE = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem;color:#1d2433}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccd;padding:.35rem .6rem;text-align:left}
th{background:#eef1f7}.VALID{color:#15803d}.UNKNOWN{color:#b45309}.MALFORMED{color:#b91c1c}.RETIRED{color:#7e22ce}
.bar{display:inline-block;height:.8rem;background:#3b82f6;margin-right:.4rem}"""


def write_report(out: Path, request: dict[str, Any], validations: list[tuple[str, Any]], group: Any, *,
                 outcomes: list[Any], seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    statuses = Counter(coding_pb.ValidationStatus.Name(r.status).removeprefix("VALIDATION_STATUS_")
                       for _, r in validations)
    rows = "".join(
        f"<tr><td>{_e(path)}</td><td>{_e(r.code)}</td><td>{_e(r.code_system_id)}</td>"
        f"<td class='{_status(r)}'>{_status(r)}</td><td>{_e(r.reason)}</td></tr>" for path, r in validations)
    bars = "".join(f"<div><span class='bar' style='width:{40 * n}px'></span>{_e(s)}: {n}</div>"
                   for s, n in statuses.most_common())
    imports = "".join(f"<tr><td>{_e(o.system_id)}</td><td>{_e(o.version)}</td><td>{_e(o.outcome)}</td>"
                      f"<td>{o.code_count:,}</td></tr>" for o in outcomes)
    trace = "".join(f"<li>{_e(line)}</li>" for line in group.trace)
    setl = request["input"]["setlinfo"]
    page = f"""<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>medpay demo report</title>
<style>{_STYLE}</style><h1>medpay 演示报告 / demo report</h1>
<p>{datetime.now():%Y-%m-%d %H:%M} · {seconds:.1f}s · institution {_e(request.get('fixmedins_code', ''))}
· settlement {_e(setl.get('setl_id', ''))}</p>
<h2>结算清单编码校验 / code validation</h2>{bars}
<table><tr><th>field</th><th>code</th><th>system</th><th>status</th><th>reason</th></tr>{rows}</table>
<h2>分组结果 / grouping</h2>
<p>DRG <b>{_e(group.drg)}</b> · ADRG {_e(group.adrg)} · MDC {_e(group.mdc)} ·
{_e(grouping_pb.GroupStatus.Name(group.status))} · scheme {_e(group.scheme_id)} {_e(group.scheme_version)}</p>
<ul>{trace}</ul>
<h2>代码标准 / code tables loaded</h2>
<table><tr><th>system</th><th>version</th><th>this run</th><th>codes</th></tr>{imports}</table></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _status(r: Any) -> str:
    return str(coding_pb.ValidationStatus.Name(r.status).removeprefix("VALIDATION_STATUS_"))


def _e(value: object) -> str:
    return html.escape(str(value))
