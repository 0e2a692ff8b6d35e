"""The demo's second prefecture, which pays by DIP (按病种分值付费) instead of CHS-DRG.

What a DIP region does, end to end: its base years' cases (synthetic DIP data, ``medpay synth --dip``) are
uploaded to the grouping service's ``BuildDipCatalogue`` (a long-running operation), which publishes the
prefecture's catalogue (病种目录库) as ``dip-<region>-<year>``; collection's scheme schedule names that scheme for
the region (``MEDPAY_COLLECTION_SCHEMES``), so the prefecture's month, posted through the same national door as
the first one, is grouped into DIP groups. The report shows the catalogue's size (core against comprehensive
groups), the share of the month's cases in core groups and the top groups.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from rich.console import Console

from libs.common.paging import every_page

from ..synth.dip import dip_case
from ..synth.generator import Generator, Reference
from ..synth.params import SynthParams
from ..synth.sources import load_reference
from ..synth.writer import Emitted, emissions
from .demo_auth import DemoAuth

DIP_REGION = "330400"  # 嘉兴: a second prefecture of the same province (the platform is 330000's)
THRESHOLD = 15
BASE_YEARS = 2


@dataclass(frozen=True)
class DipPlan:
    """The DIP prefecture of a demo run: its month beside the first prefecture's, its base years before."""

    month: SynthParams
    base: SynthParams
    ref: Reference  # the prefecture: its hospitals (they get x-tif keys before the services start), case mix

    @staticmethod
    def of(first: SynthParams, lists: int, base_cases: int, reference_dir: Path) -> DipPlan:
        month = replace(first, region=DIP_REGION, cases=lists, dip=True, seed=first.seed + 1, draw_seed=first.seed + 2)
        base = replace(month, year=first.year - BASE_YEARS, first_month=first.first_month, months=12 * BASE_YEARS,
                       cases=base_cases, draw_seed=first.seed + 3)  # the same prefecture, other draws
        ref, _ = load_reference(base, reference_dir)
        return DipPlan(month, base, ref)

    @property
    def scheme_id(self) -> str:
        return f"dip-{DIP_REGION}-{self.month.year}"

    def schedule(self) -> dict[str, str]:
        """Collection's configuration that moves the region onto its DIP catalogue from the month's first day."""
        return {"MEDPAY_COLLECTION_SCHEMES": f"{DIP_REGION}:{self.month.first_day.isoformat()}:{self.scheme_id}"}


@dataclass
class DipDemoResults:
    """What the report shows of the DIP prefecture."""

    region: str
    scheme_id: str
    catalogue: dict[str, Any] = field(default_factory=dict)  # version, counts of the published catalogue
    month: Any = None  # the DemoResults of its month (lists posted, accepted, groups)
    group_names: dict[str, str] = field(default_factory=dict)  # group id -> a principal diagnosis name in it
    base_rows: dict[str, tuple[int, str]] = field(default_factory=dict)  # group id -> (base cases, mean cost)
    seconds_building: float = 0.0

    def month_kinds(self) -> Counter[str]:
        """The month's accepted cases by the kind of their DIP group (the id says it: ``dx4|P`` core,
        ``dx3/type`` comprehensive, ``0000`` ungroupable)."""
        kinds: Counter[str] = Counter()
        for group, n in self.month.drgs.items():
            kinds["core" if "|" in group else "ungroupable" if group in ("", "0000") else "comprehensive"] += n
        return kinds

    def core_share(self) -> float:
        kinds = self.month_kinds()
        total = sum(kinds.values())
        return kinds["core"] / total if total else 0.0

    def top_groups(self, n: int = 12) -> list[tuple[str, int]]:
        return [(g, c) for g, c in self.month.drgs.most_common(n) if g not in ("", "0000")]


Send = Callable[[Any, str, str, list[Emitted], int], Coroutine[Any, Any, Any]]


def run_dip_prefecture(plan: DipPlan, auth: DemoAuth, *, grouping: str, door: str, collection: str,
                       concurrency: int, send: Send, console: Console) -> DipDemoResults:
    """Build the prefecture's catalogue from its base years over gRPC, then post its month through the door."""
    ref = plan.ref  # one prefecture: the same hospitals and case mix in its base years and its month
    history = [dip_case(request, truth) for request, truth in Generator(plan.base, ref).lists()
               if not truth["faults"]]  # the base years' accepted lists
    results = DipDemoResults(DIP_REGION, plan.scheme_id)
    started = time.perf_counter()
    results.catalogue = asyncio.run(_build(auth, grouping, plan.scheme_id, history))
    results.seconds_building = time.perf_counter() - started
    console.print(f"DIP prefecture {DIP_REGION}: catalogue {plan.scheme_id} version "
                  f"{results.catalogue['version_label']} built from {len(history):,} base-year cases "
                  f"({plan.base.first_day:%Y-%m} to {plan.base.last_day:%Y-%m}) by BuildDipCatalogue in "
                  f"{results.seconds_building:.1f}s: {results.catalogue['core']:,} core and "
                  f"{results.catalogue['comprehensive']:,} comprehensive groups, "
                  f"{results.catalogue['core_cases'] / max(results.catalogue['cases'], 1):.1%} of the base-year "
                  f"cases in core groups")
    month = list(emissions(Generator(plan.month, ref)))
    results.month = asyncio.run(send(auth, door, collection, month, concurrency))
    top = [g for g, _ in results.top_groups()]
    results.group_names = {g: group_label(g, ref.names) for g in top}
    results.base_rows = asyncio.run(_base_rows(auth, grouping, plan.scheme_id, top))
    kinds = results.month_kinds()
    console.print(f"DIP prefecture {DIP_REGION}, {plan.month.first_day:%Y-%m}: "
                  f"{results.month.accepted + results.month.rejected:,} lists posted, {results.month.accepted:,} "
                  f"accepted and grouped by {plan.scheme_id}: {results.core_share():.1%} in core groups, "
                  f"{kinds['comprehensive']:,} in comprehensive groups, {kinds['ungroupable']:,} ungroupable")
    return results


async def _build(auth: DemoAuth, grouping: str, scheme_id: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    """BuildDipCatalogue with the history uploaded (gzip), waited for through the Operations service."""
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, compresslevel=6) as out:
        for case in history:
            out.write(orjson.dumps(case, option=orjson.OPT_APPEND_NEWLINE))
    async with auth.channel(grouping, deadline_seconds=300) as channel:
        stub = grouping_grpc.GroupingServiceStub(channel)
        operations = operations_pb2_grpc.OperationsStub(channel)
        operation = await stub.BuildDipCatalogue(dip_pb2.BuildDipCatalogueRequest(
            scheme=f"schemes/{scheme_id}", threshold=THRESHOLD,
            upload=dip_pb2.DipHistoryUpload(history=packed.getvalue())))
        while not operation.done:
            operation = await operations.WaitOperation(operations_pb2.WaitOperationRequest(name=operation.name))
    if operation.HasField("error"):
        raise RuntimeError(f"BuildDipCatalogue of {scheme_id} failed: {operation.error.message}")
    catalogue = dip_pb2.DipCatalogue()
    operation.response.Unpack(catalogue)
    return {"name": catalogue.name, "version_label": catalogue.version_label, "core": catalogue.core_group_count,
            "comprehensive": catalogue.comprehensive_group_count, "cases": catalogue.case_count,
            "core_cases": catalogue.core_case_count, "threshold": catalogue.threshold}


async def _base_rows(auth: DemoAuth, grouping: str, scheme_id: str, groups: list[str]) -> dict[str, tuple[int, str]]:
    """Base-year cases and mean cost of the given groups, from the published catalogue (ListDipGroups)."""
    wanted, found = set(groups), {}
    async with auth.channel(grouping) as channel:
        stub = grouping_grpc.GroupingServiceStub(channel)
        async for g in every_page(stub.ListDipGroups, dip_pb2.ListDipGroupsRequest(
                parent=f"schemes/{scheme_id}/catalogues/-", page_size=10_000), "groups"):
            if g.group_id in wanted:
                found[g.group_id] = (g.case_count, "%d.%02d" % divmod(g.mean_cost.fen, 100))  # noqa: UP031
    return found


def group_label(group: str, names: Mapping[str, str]) -> str:
    """What a bureau officer reads for a group id: the diagnosis category's name (the first code of the
    category in the code table), and for a core group the name of its first procedure."""
    head, _, procedures = group.replace("/", "|").partition("|")
    diagnosis = next((names[c] for c in sorted(names) if c.startswith(head) and not c[:1].isdigit()), "")
    first = procedures.split("+")[0] if "|" in group else ""
    return diagnosis + (f" + {names[first]}" if first in names else "")


def dip_section(r: DipDemoResults) -> str:
    """The report's section on the DIP prefecture (HTML)."""
    from .report import _bars, _e

    c, month, kinds = r.catalogue, r.month, r.month_kinds()
    grouped = sum(kinds.values())
    kpis = "".join(f"<div class='kpi'>{label}<b>{value}</b></div>" for label, value in (
        ("核心病种 core groups", f"{c['core']:,}"), ("综合病种 comprehensive groups", f"{c['comprehensive']:,}"),
        ("基期入核心病种 base-year cases in core", f"{c['core_cases'] / max(c['cases'], 1):.1%}"),
        ("本月入核心病种 cases in core groups", f"{r.core_share():.1%}")))
    rows = "".join(
        f"<tr><td>{_e(g)}</td><td>{_e(r.group_names.get(g, ''))}</td><td class='num'>{n}</td>"
        f"<td class='num'>{r.base_rows.get(g, ('', ''))[0]}</td><td class='num'>{r.base_rows.get(g, ('', ''))[1]}</td>"
        f"</tr>" for g, n in r.top_groups())
    return f"""<h2>DIP 病种分值付费 / a DIP prefecture ({_e(r.region)}, scheme {_e(r.scheme_id)})</h2>
<p>A second prefecture pays by DIP. Its catalogue (病种目录库) was built by <code>BuildDipCatalogue</code> from
{c['cases']:,} base-year cases at threshold {c['threshold']} (version {_e(c['version_label'])},
{r.seconds_building:.1f}s): every diagnosis + procedure combination with at least {c['threshold']} cases is a core
group, the rest are comprehensive groups by diagnosis category and case type. Collection's scheme schedule puts
the region on that catalogue, so its month ({month.accepted + month.rejected:,} lists through the same door,
{month.accepted:,} accepted) was grouped into DIP groups: {kinds['core']:,} of {grouped:,} cases in core groups
(exact or partial match), {kinds['comprehensive']:,} in comprehensive groups, {kinds['ungroupable']:,}
ungroupable.</p>{kpis}
<h3>catalogue size / 目录库规模</h3>
{_bars([("core groups 核心病种", c['core']), ("comprehensive groups 综合病种", c['comprehensive'])])}
<h3>the month's cases by kind of group</h3>
{_bars([("core 核心病种", kinds['core']), ("comprehensive 综合病种", kinds['comprehensive']),
        ("ungroupable 0000", kinds['ungroupable'])])}
<h3>top DIP groups / 主要病种</h3>{_bars([(f"{g} {r.group_names.get(g, '')}", n) for g, n in r.top_groups()])}
<table><tr><th>group</th><th>diagnosis (+ first procedure)</th><th>cases this month</th>
<th>base-year cases</th><th>base-year mean cost (yuan)</th></tr>{rows}</table>"""
