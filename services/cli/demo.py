"""`medpay demo`: the intake pipeline end to end on one machine, the services as separate processes.

Embedded PostgreSQL (unless MEDPAY_DATABASE_URL is set), migrations and the code tables; the coding, grouping
and collection services started as processes; a synthetic prefecture month posted through the national HTTP
interface with concurrency; a summary on the terminal and ``out/report.html``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from libs.common.db.migrate import upgrade_all
from libs.common.grpc.client import open_channel
from libs.common.reference import BUNDLED_SAMPLE
from libs.common.runtime import Runtime

from ..coding.bootstrap import build_app
from ..coding.service_layer.importing import import_codes
from ..collection.domain.codes import coded_fields
from ..synth.cli import default_scheme
from ..synth.generator import Generator
from ..synth.params import SynthParams
from ..synth.sources import load_reference
from .processes import start_services
from .report import DemoResults, write_report

console = Console(width=max(Console().width, 150))  # wide tables even when piped
SAMPLE_LIST = BUNDLED_SAMPLE / "settlement_list_4101A.json"
JSON_HEADERS = {"content-type": "application/json"}


def add_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the intake pipeline end to end and write out/report.html")
    demo.add_argument("--out", type=Path, default=Path("out"), help="report folder (default out/)")
    demo.add_argument("--lists", type=int, default=5000, help="settlement lists of the month (default 5000)")
    demo.add_argument("--hospitals", type=int, default=10)
    demo.add_argument("--concurrency", type=int, default=32, help="uploads in flight")
    demo.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, runtime: Runtime) -> int:
    started = time.perf_counter()
    console.rule("[bold]medpay demo: a prefecture month through the national interface")
    url = runtime.database_url
    console.print(f"database: {'embedded PostgreSQL' if runtime.settings.database_url is None else 'configured'}; "
                  f"reference material: {runtime.reference_dir}")
    upgrade_all(url)
    outcomes = asyncio.run(_import_codes(runtime))
    console.print("code tables: " + ", ".join(f"{o.system_id} {o.outcome}" for o in outcomes))
    # Rich lists (patient fields and fees on the list) until collection joins settlement records to lists.
    params = SynthParams(cases=args.lists, hospitals=args.hospitals, months=1,
                         scheme=default_scheme(runtime.reference_dir), rich_lists=True)
    ref, _ = load_reference(params, runtime.reference_dir)
    month = list(Generator(params, ref).lists())
    console.print(f"synthetic month: {len(month):,} settlement lists of {len(ref.hospitals)} hospitals in "
                  f"{params.region} ({params.scheme})")
    env = {"MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir)}
    with start_services(["collection"], env) as running:  # and what collection calls, from the registry
        coding, grouping = running["coding"].address, running["grouping"].address
        http = running["collection"].http_address
        console.print(f"coding {coding}, grouping {grouping} and collection (national interface http://{http}) "
                      f"serving as separate processes")
        sample = asyncio.run(_sample(coding, grouping, runtime))
        results = asyncio.run(_post_month(f"http://{http}{runtime.settings.collection_http_base}", month,
                                          args.concurrency))
        results.drg_names = asyncio.run(_drg_names(grouping, params.scheme, results.top_drgs(15)))
    results.sample = sample
    results.hospitals = {h.code: h.name for h in ref.hospitals}
    _print(results)
    report = write_report(args.out, results, outcomes=outcomes, seconds=time.perf_counter() - started)
    console.print(f"\nreport written to [bold]{report}[/] ({time.perf_counter() - started:.1f}s in all)")
    return 0


async def _import_codes(runtime: Runtime) -> list[Any]:
    app = build_app(runtime)
    try:
        return await import_codes(app.new_uow, runtime.reference_dir)
    finally:
        await app.close()


async def _sample(coding_addr: str, grouping_addr: str, runtime: Runtime) -> dict[str, Any]:
    """The bundled sample list's codes validated over gRPC: what the coding service says of each."""
    request = json.loads(SAMPLE_LIST.read_text(encoding="utf-8"))
    fields = coded_fields(request)
    async with open_channel(coding_addr) as channel:
        reply = await coding_grpc.CodingServiceStub(channel).ValidateCodes(coding_pb.ValidateCodesRequest(
            codes=[coding_pb.CodeReference(code_system=f.system_id, code=f.code) for f in fields]))
    return {"validations": [(f.path, r.code, r.code_system_id,
                             coding_pb.ValidationStatus.Name(r.status).removeprefix("VALIDATION_STATUS_"), r.reason)
                            for f, r in zip(fields, reply.results, strict=True)]}


async def _post_month(base: str, month: list[tuple[dict[str, Any], dict[str, Any]]],
                      concurrency: int) -> DemoResults:
    results = DemoResults()
    limit = asyncio.Semaphore(concurrency)
    columns = (TextColumn("posting through the national interface"), BarColumn(), MofNCompleteColumn())
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("post", total=len(month))
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
            async def one(request: dict[str, Any], truth: dict[str, Any]) -> None:
                async with limit:  # orjson, not httpx's json=: the client's CPU is the demo machine's too
                    reply = orjson.loads((await client.post(f"{base}/4101A", content=orjson.dumps(request),
                                                            headers=JSON_HEADERS)).content)
                results.record(request, truth, reply)
                bar.advance(task)

            await asyncio.gather(*(one(r, t) for r, t in month))
    results.seconds = time.perf_counter() - started
    return results


async def _drg_names(grouping_addr: str, scheme: str, drgs: list[str]) -> dict[str, str]:
    names = {}
    async with open_channel(grouping_addr) as channel:
        stub = grouping_grpc.GroupingServiceStub(channel)
        for drg in drgs:
            try:
                names[drg] = (await stub.GetDrg(grouping_pb.GetDrgRequest(
                    name=f"schemes/{scheme}/drgs/{drg}"))).display_name
            except grpc.aio.AioRpcError:
                names[drg] = ""
    return names


def _print(r: DemoResults) -> None:
    console.print(f"\n[bold]{r.accepted + r.rejected:,} lists posted in {r.seconds:.1f}s "
                  f"({(r.accepted + r.rejected) / max(r.seconds, 1e-9):,.0f}/s)[/]: {r.accepted:,} accepted, "
                  f"{r.rejected:,} rejected; grouping rate {r.grouping_rate():.1%}; rejections matching the "
                  f"injected faults: {r.fault_agreement():.1%}")
    console.print("(the demo's HTTP client shares this machine with the three services and PostgreSQL; "
                  "`python -m benchmarks.collection` measures the server alone)", style="dim")
    reasons = Table(title="top quality-control reasons for rejection")
    for column in ("rule", "lists", "example"):
        reasons.add_column(column)
    for code, n in r.reasons.most_common(8):
        reasons.add_row(code, str(n), r.reason_examples[code][:110])
    console.print(reasons)
    drgs = Table(title="top DRGs")
    for column in ("DRG", "name", "cases"):
        drgs.add_column(column)
    for drg in r.top_drgs():
        drgs.add_row(drg, r.drg_names.get(drg, ""), str(r.drgs[drg]))
    console.print(drgs)
    per = Table(title="cases per hospital")
    for column in ("institution", "name", "accepted", "rejected"):
        per.add_column(column)
    for code, n in sorted(r.per_hospital.items(), key=lambda kv: -kv[1]):
        per.add_row(code, r.hospitals.get(code, ""), str(n), str(r.rejected_per_hospital.get(code, 0)))
    console.print(per)



