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
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc
from medpay.collection.v1 import collection_service_pb2 as collection_pb
from medpay.collection.v1 import collection_service_pb2_grpc as collection_grpc
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from libs.common.db.migrate import upgrade_all
from libs.common.paging import every_page
from libs.common.reference import BUNDLED_SAMPLE
from libs.common.runtime import Runtime

from ..coding.bootstrap import build_app
from ..coding.service_layer.importing import import_codes
from ..collection.domain.codes import coded_fields
from ..synth.cli import default_scheme
from ..synth.generator import Generator
from ..synth.params import SynthParams
from ..synth.sources import divisions, load_reference
from ..synth.writer import Emitted, emissions
from .demo_auth import DemoAuth, security_checks
from .demo_dip import DipPlan, run_dip_prefecture
from .demo_evaluation import EvaluationOutcome, evaluate_month, month_weights
from .demo_review import YearReview, review_month, review_year
from .demo_settlement import settle_a_year
from .processes import start_services
from .report import DemoResults, write_report
from .report_review import review_kpis
from .report_settlement import yuan

console = Console(width=max(Console().width, 150))  # wide tables even when piped
SAMPLE_LIST = BUNDLED_SAMPLE / "settlement_list_4101A.json"
JSON_HEADERS = {"content-type": "application/json"}


def add_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the intake pipeline end to end and write out/report.html")
    demo.add_argument("--out", type=Path, default=Path("out"), help="report folder (default out/)")
    demo.add_argument("--lists", type=int, default=5000, help="settlement lists of the month (default 5000)")
    demo.add_argument("--hospitals", type=int, default=10)
    demo.add_argument("--concurrency", type=int, default=32, help="uploads in flight")
    demo.add_argument("--dip-lists", type=int, default=1500,
                      help="lists of the month of a second prefecture that pays by DIP (default 1500; 0: none)")
    demo.add_argument("--dip-base-cases", type=int, default=36000,
                      help="base-year cases its DIP catalogue is built from (default 36000, two years)")
    demo.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    demo.add_argument("--settlement-lists", type=int, default=200,
                      help="lists per month of the synthetic settlement year and its two base years (default 200)")
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
    # Lists as hospital systems send them (HIS form), the person and the money in the core system's records.
    params = SynthParams(cases=args.lists, hospitals=args.hospitals, months=1,
                         scheme=default_scheme(runtime.reference_dir))
    ref, _ = load_reference(params, runtime.reference_dir)
    month = list(emissions(Generator(params, ref), fees=True))
    fees = [line for kind, line, _ in month if kind == "fees"]  # the stays' 2301 fee details, for review
    month = [emitted for emitted in month if emitted[0] != "fees"]
    console.print(f"synthetic month: {sum(k == 'list' for k, _, _ in month):,} settlement lists of "
                  f"{len(ref.hospitals)} hospitals in {params.region} ({params.scheme}) and "
                  f"{sum(k == 'record' for k, _, _ in month):,} settlement records of the core system")
    # Auth on: mutual TLS between every process, a token per caller, hospitals signing x-tif over HTTPS.
    dip = DipPlan.of(params, args.dip_lists, args.dip_base_cases, runtime.reference_dir) if args.dip_lists else None
    dip_hospitals = [h.code for h in dip.ref.hospitals] if dip is not None else []
    auth = DemoAuth.create(runtime.settings.data_dir / "demo-auth", [h.code for h in ref.hospitals] + dip_hospitals)
    env = {"MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir), **auth.env(),
           "MEDPAY_SETTLEMENT_REVIEW_DEDUCTIONS": "true"}  # clearings deduct what review confirmed
    env.update(dip.schedule() if dip is not None else {})  # the DIP prefecture on its own catalogue
    with start_services(["collection", "settlement", "evaluation"], env) as running:  # and what they call
        coding, grouping = running["coding"].address, running["grouping"].address
        http = running["collection"].http_address
        console.print(f"coding {coding}, grouping {grouping} and collection (national interface https://{http}) "
                      f"serving as separate processes, auth on (MEDPAY_AUTH_DIR={auth.directory}): mutual TLS, "
                      f"signed tokens with a role per method, hospitals sign x-tif requests")
        sample = asyncio.run(_sample(auth, coding))
        results = asyncio.run(_send_month(auth, auth.base(http, runtime.settings.collection_http_base),
                                          running["collection"].address, month, args.concurrency))
        results.drg_names = asyncio.run(_drg_names(auth, grouping, params.scheme, results.top_drgs(15)))
        if dip is not None:
            results.dip = run_dip_prefecture(
                dip, auth, grouping=grouping, door=auth.base(http, runtime.settings.collection_http_base),
                collection=running["collection"].address, concurrency=args.concurrency, send=_send_month,
                console=console)
        results.review = asyncio.run(review_month(
            running["evaluation"].address, running["collection"].address, params.region, params.first_day,
            fees=fees, truths=[t for kind, _, t in month if kind == "list" and t is not None],
            progress=console.print, open_as=_review_channels(auth)))
        region_name = divisions(runtime.reference_dir)[1].get(params.region[:4], "")
        evaluation = asyncio.run(evaluate_month(
            running["evaluation"].address, runtime, region=params.region, region_name=region_name,
            period=f"{params.year}-{params.first_month:02d}", out=args.out / "evaluation", channel=auth.channel,
            weights=month_weights(fact for kind, _, fact in month if kind == "list" and fact is not None)))
        console.rule("[bold]settlement: weights, monthly advances and the year-end clearing of a synthetic year")

        async def review_before_clearing(region: str, year: int, truths: list[dict[str, Any]]) -> YearReview:
            found = await review_year(running["evaluation"].address, region, year, truths=truths,
                                      open_as=_review_channels(auth))
            console.print(f"settlement: review {found.run_name}: {found.lists:,} lists, {found.flags:,} flags; "
                          f"{found.confirmed} confirmed, {found.dismissed} dismissed: "
                          f"{yuan(sum(fen for _, fen, _ in found.deductions))} yuan for the clearing to deduct")
            return found

        results.settlement = asyncio.run(settle_a_year(
            running["collection"].address, running["settlement"].address, runtime.reference_dir,
            hospitals=args.hospitals, per_month=args.settlement_lists, scheme=params.scheme,
            step=lambda text: console.print(f"settlement: {text}"), channel=auth.channel,
            hospital_channel=_hospital_channels(auth), before_clearing=review_before_clearing))
        settled_year = asyncio.run(evaluate_month(
            running["evaluation"].address, runtime, region=params.region, region_name=region_name,
            period=str(results.settlement.year), out=args.out / "evaluation" / str(results.settlement.year),
            weights=None, channel=auth.channel))
        checks = asyncio.run(security_checks(auth, running["collection"].address,
                                             sorted(h.code for h in ref.hospitals)))
    results.sample = sample
    results.hospitals = {h.code: h.name for h in ref.hospitals}
    _print(results)
    _print_evaluation(evaluation)
    _print_evaluation(settled_year)
    _print_checks(checks)
    report = write_report(args.out, results, outcomes=outcomes, seconds=time.perf_counter() - started)
    console.print(f"\nreport written to [bold]{report}[/] ({time.perf_counter() - started:.1f}s in all)")
    return 0


async def _import_codes(runtime: Runtime) -> list[Any]:
    app = build_app(runtime)
    try:
        return await import_codes(app.new_uow, runtime.reference_dir)
    finally:
        await app.close()


async def _sample(auth: DemoAuth, coding_addr: str) -> dict[str, Any]:
    """The bundled sample list's codes validated over gRPC: what the coding service says of each."""
    request = json.loads(SAMPLE_LIST.read_text(encoding="utf-8"))
    fields = coded_fields(request)
    async with auth.channel(coding_addr) as channel:
        reply = await coding_grpc.CodingServiceStub(channel).ValidateCodes(coding_pb.ValidateCodesRequest(
            codes=[coding_pb.CodeReference(code_system=f.system_id, code=f.code) for f in fields]))
    return {"validations": [(f.path, r.code, r.code_system_id,
                             coding_pb.ValidationStatus.Name(r.status).removeprefix("VALIDATION_STATUS_"), r.reason)
                            for f, r in zip(fields, reply.results, strict=True)]}


async def _send_month(auth: DemoAuth, base: str, collection: str, month: list[Emitted],
                      concurrency: int) -> DemoResults:
    """The month as it reaches the platform: hospitals post their lists (HIS form) through the national HTTP
    interface, the core system sends its settlement records over gRPC as each day's settlements close. Coders
    finish some lists days after discharge, so those come after their records; most come before and wait."""
    results = DemoResults()
    columns = (TextColumn("sending lists (HTTP) and settlement records (gRPC)"), BarColumn(), MofNCompleteColumn())
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("send", total=sum(kind == "list" for kind, _, _ in month))
        async with auth.http_client(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client, \
                auth.channel(collection) as channel:
            stub = collection_grpc.CollectionServiceStub(channel)
            sender = _MonthSender(client, base, stub, concurrency, lambda: bar.advance(task),
                                  sign=auth.signed)
            await sender.send(month)
            finals = await _final_states(stub)
    results.seconds = time.perf_counter() - started
    results.record_outcomes.update(sender.record_outcomes)
    results.arrival.update(sender.arrival)
    # What of this month waits at the end: its lists without their record, its records without their list.
    settled = {}
    for kind, line, _ in month:
        if kind == "record":
            settled[(line["fixmedins_code"], line["setlinfo"]["setl_id"])] = line["infno"] == "2304"
    listed = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"]) for r, _, _ in sender.sent}
    results.still_pending = sum(finals[key][0] == "PENDING" for key in listed if key in finals)
    results.records_waiting = sum(active and key not in finals for key, active in settled.items())
    for request, truth, reply in sender.sent:
        key = (request["fixmedins_code"], request["input"]["setlinfo"]["setl_id"])
        results.record(request, truth, reply, finals.get(key))
    return results


class _MonthSender:
    """Replays the synthetic month in its order: lists as they are coded (70% the day of discharge, the rest
    one to three days later), each day's settlement records once the day closes."""

    def __init__(self, client: httpx.AsyncClient, base: str, stub: Any, concurrency: int,
                 advance: Any, *, sign: Callable[[str], dict[str, str]]) -> None:
        self._client, self._base, self._stub = client, base, stub
        self._sign = sign  # each hospital's x-tif signature headers
        self._limit = asyncio.Semaphore(concurrency)
        self._batch = 4 * concurrency
        self._advance = advance
        self._day = 0
        self._held: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # (the day it is sent, list, truth)
        self._due: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._records: list[dict[str, Any]] = []
        self.sent: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        self.record_outcomes: Counter[str] = Counter()
        self.arrival: Counter[str] = Counter()  # the status each list was acknowledged with

    async def send(self, month: list[Emitted]) -> None:
        for kind, line, truth in month:
            if kind == "record":
                await self._post_due()
                self._records.append(line)
                continue
            if self._records:
                await self._close_day()
            lag = zlib.crc32(line["msgid"].encode()) % 10  # 0-6 coded at once; 7-9 coded 1-3 days later
            if lag < 7:
                self._due.append((line, truth or {}))
            else:
                self._held.append((self._day + lag - 6, line, truth or {}))
            if len(self._due) >= self._batch:
                await self._post_due()
        await self._close_day()
        self._due.extend((r, t) for _, r, t in self._held)
        await self._post_due()

    async def _post_due(self) -> None:
        await asyncio.gather(*(self._post(r, t) for r, t in self._due))
        self._due.clear()

    async def _post(self, request: dict[str, Any], truth: dict[str, Any]) -> None:
        async with self._limit:  # orjson, not httpx's json=: the client's CPU is the demo machine's too
            reply = orjson.loads((await self._client.post(f"{self._base}/4101A", content=orjson.dumps(request),
                                                          headers={**JSON_HEADERS, **self._sign(
                                                              request["fixmedins_code"])})).content)
        self.arrival[(reply.get("output") or {}).get("status", "") if reply.get("infcode") == 0 else "REJECTED"] += 1
        self.sent.append((request, truth, reply))
        self._advance()

    async def _close_day(self) -> None:
        """The core system sends the day's settlements; the lists coded late that day follow."""
        if self._records:
            self.record_outcomes.update(await _send_records(self._stub, self._records))
            self._records.clear()
        self._day += 1
        self._due.extend((r, t) for d, r, t in self._held if d <= self._day)
        self._held = [h for h in self._held if h[0] > self._day]
        await self._post_due()


async def _send_records(stub: Any, lines: list[dict[str, Any]]) -> list[str]:
    reply = await stub.UploadSettlementRecords(collection_pb.UploadSettlementRecordsRequest(
        records=[orjson.dumps(line) for line in lines]))
    return [collection_pb.RecordOutcome.Name(r.outcome).removeprefix("RECORD_OUTCOME_") for r in reply.results]


async def _final_states(stub: Any) -> dict[tuple[str, str], tuple[str, str, list[dict[str, str]]]]:
    """Every stored list's final status and DRG, and the errors of those rejected when they met their record."""
    out: dict[tuple[str, str], tuple[str, str, list[dict[str, str]]]] = {}
    async for s in every_page(stub.ListSettlementLists, collection_pb.ListSettlementListsRequest(page_size=1000),
                              "settlement_lists"):
        status = collection_pb.ListStatus.Name(s.status).removeprefix("LIST_STATUS_")
        out[(s.fixmedins_code, s.setl_id)] = (status, s.case_group.code, [])
    for key, (status, drg, _) in list(out.items()):
        if status == "REJECTED":
            stored = (await stub.GetSettlementList(collection_pb.GetSettlementListRequest(
                fixmedins_code=key[0], setl_id=key[1])))
            out[key] = (status, drg, [{"code": f.code, "field": f.field, "message_en": f.message_en}
                                      for f in stored.findings if f.severity == collection_pb.SEVERITY_ERROR])
    return out


async def _drg_names(auth: DemoAuth, grouping_addr: str, scheme: str, drgs: list[str]) -> dict[str, str]:
    names = {}
    async with auth.channel(grouping_addr) as channel:
        stub = grouping_grpc.GroupingServiceStub(channel)
        for drg in drgs:
            try:
                names[drg] = (await stub.GetDrg(grouping_pb.GetDrgRequest(
                    name=f"schemes/{scheme}/drgs/{drg}"))).display_name
            except grpc.aio.AioRpcError:
                names[drg] = ""
    return names


def _print_evaluation(e: EvaluationOutcome) -> None:
    r, region = e.report, e.report.region_figures
    console.print(f"\nperformance evaluation {r.period} ({e.run}): {region.cases:,} cases, CMI {region.cmi}, "
                  f"low-risk mortality {region.low_risk_mortality}, 15-day readmission {region.readmit15_rate}")
    inputs = dict(r.inputs)
    if "settlement_run" in inputs and r.region_payment is not None:
        console.print(f"against settlement run {inputs['settlement_run']} (weights {inputs['weights']}): high "
                      f"outliers {r.region_payment.high_outlier_share}, low outliers "
                      f"{r.region_payment.low_outlier_share}, special cases {r.region_payment.special_cases}")
    table = Table("hospital", "level", "cases", "CMI", "time index", "cost index", "quadrant",
                  title="hospital league table (by CMI)")
    for h in r.league():
        f = h.figures
        table.add_row(f"{h.code} {h.name}", str(h.level or ""), f"{f.cases:,}", str(f.cmi or ""),
                      str(f.time_index or ""), str(f.cost_index or ""), h.quadrant.value if h.quadrant else "")
    console.print(table)
    console.print(f"evaluation report: {e.files[0]} (+ {len(e.files) - 1} CSV files)")


def _print_checks(checks: list[tuple[str, str, bool]]) -> None:
    table = Table(title="security checks (auth on)")
    for column in ("attempt", "answer", "as it should be"):
        table.add_column(column)
    for attempt, answer, right in checks:
        table.add_row(attempt, answer, "yes" if right else "[red]NO[/]")
    console.print(table)


def _hospital_channels(auth: DemoAuth) -> Any:
    """A channel that calls as the given hospital (its special-case applications)."""
    from libs.common.auth.roles import Role

    def open_as(address: str, code: str) -> grpc.aio.Channel:
        return auth.channel(address, Role.HOSPITAL, code)
    return open_as


def _review_channels(auth: DemoAuth) -> Any:
    """Review's callers with auth on: the province's operator and reviewers (one token each), hospitals."""
    from libs.common.auth.roles import Role

    def open_as(address: str, kind: str, subject: str) -> grpc.aio.Channel:
        if kind == "hospital":
            return auth.channel(address, Role.HOSPITAL, subject)
        return auth.channel(address, Role.PROVINCE, subject or "demo-operator")
    return open_as


def _print(r: DemoResults) -> None:
    console.print(f"\n[bold]{r.accepted + r.rejected:,} lists posted in {r.seconds:.1f}s "
                  f"({(r.accepted + r.rejected) / max(r.seconds, 1e-9):,.0f}/s)[/]: {r.accepted:,} accepted, "
                  f"{r.rejected:,} rejected; grouping rate {r.grouping_rate():.1%}; rejections matching the "
                  f"injected faults: {r.fault_agreement():.1%}")
    console.print(f"settlement records from the core system: {sum(r.record_outcomes.values()):,} "
                  f"({', '.join(f'{n:,} {k.lower()}' for k, n in sorted(r.record_outcomes.items()))}); lists "
                  f"acknowledged as pending (before their record): {r.arrival['PENDING']:,}, grouped on arrival: "
                  f"{r.arrival['ACTIVE']:,}, rejected on arrival: {r.arrival['REJECTED']:,}; still waiting at the "
                  f"end: {r.still_pending:,} lists, {r.records_waiting:,} records (whose lists were rejected and "
                  f"are to be resent)")
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
    if r.review is not None:
        kpis = ", ".join(f"{label} {value}" for label, value in review_kpis(r.review))
        categories = ", ".join(f"{c} {n:,}" for c, n in r.review.by_category.most_common())
        console.print(f"smart review: {kpis}; flags by category: {categories}")



