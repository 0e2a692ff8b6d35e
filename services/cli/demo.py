"""`medpay demo`: the pipeline end to end on one machine, with the services as separate processes.

Today: embedded PostgreSQL (unless MEDPAY_DATABASE_URL is set), migrations, code import, the coding and
grouping services started as processes, a sample settlement list's codes validated and its case grouped over
gRPC, a summary on the terminal and ``out/report.html``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc
from rich.console import Console
from rich.table import Table

from libs.common.db.migrate import upgrade_all
from libs.common.grpc.client import open_channel
from libs.common.reference import BUNDLED_SAMPLE
from libs.common.runtime import Runtime

from ..coding.bootstrap import build_app
from ..coding.service_layer.importing import import_codes
from ..collection.domain.case_facts import case_facts
from ..collection.domain.codes import coded_fields
from .report import write_report

console = Console(width=max(Console().width, 150))  # wide tables even when piped
SAMPLE_LIST = BUNDLED_SAMPLE / "settlement_list_4101A.json"


def add_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the pipeline end to end and write out/report.html")
    demo.add_argument("--out", type=Path, default=Path("out"), help="report folder (default out/)")
    demo.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, runtime: Runtime) -> int:
    started = time.perf_counter()
    console.rule("[bold]medpay demo")
    url = runtime.database_url
    console.print(f"database: {'embedded PostgreSQL' if runtime.settings.database_url is None else 'configured'}"
                  f"; reference material: {runtime.reference_dir}")
    upgrade_all(url)
    console.print("migrations applied")
    outcomes = asyncio.run(_import(runtime))
    console.print("code import: " + ", ".join(f"{o.system_id} {o.outcome}" for o in outcomes))
    env = {**os.environ, "MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_LOG_LEVEL": "WARNING"}
    with _service("coding", env) as coding_addr, _service("grouping", env) as grouping_addr:
        request = json.loads(SAMPLE_LIST.read_text(encoding="utf-8"))
        validations, group = asyncio.run(_call_services(coding_addr, grouping_addr, request, runtime))
    _print(validations, group)
    report = write_report(args.out, request, validations, group, outcomes=outcomes,
                          seconds=time.perf_counter() - started)
    console.print(f"\nreport written to [bold]{report}[/] ({time.perf_counter() - started:.1f}s in all)")
    return 0


async def _import(runtime: Runtime) -> list[Any]:
    app = build_app(runtime)
    try:
        return await import_codes(app.new_uow, runtime.reference_dir)
    finally:
        await app.close()


@contextmanager
def _service(name: str, env: dict[str, str]) -> Iterator[str]:
    """Start ``medpay serve NAME`` as a child process on a free port; SIGTERM it on the way out."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", name, "--address", address], env=env)
    try:
        asyncio.run(_wait_serving(address, proc))
        console.print(f"{name} service serving on {address} (pid {proc.pid})")
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _wait_serving(address: str, proc: subprocess.Popen[bytes], limit_seconds: float = 60) -> None:
    deadline = time.monotonic() + limit_seconds
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the service on {address} exited with code {proc.returncode}")
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the service on {address} did not become SERVING in {limit_seconds:.0f}s")


async def _call_services(coding_addr: str, grouping_addr: str, request: dict[str, Any],
                         runtime: Runtime) -> tuple[list[tuple[str, Any]], Any]:
    fields = coded_fields(request)
    async with open_channel(coding_addr) as channel:
        reply = await coding_grpc.CodingServiceStub(channel).ValidateCodes(coding_pb.ValidateCodesRequest(
            codes=[coding_pb.CodeReference(code_system=f.system_id, code=f.code) for f in fields]))
    facts = case_facts(request["input"])
    case = grouping_pb.GroupingCase(case_id=request["input"]["setlinfo"]["setl_id"], sex=facts.sex or 0,
                                    discharge_type=facts.discharge_type, diagnoses=facts.diagnoses,
                                    procedures=facts.procedures)
    for name in ("age_years", "age_days", "birth_weight_g", "los_days"):
        if getattr(facts, name) is not None:
            setattr(case, name, getattr(facts, name))
    scheme = "chs-drg-1.1" if (runtime.reference_dir / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"
    async with open_channel(grouping_addr) as channel:
        grouped = await grouping_grpc.GroupingServiceStub(channel).GroupCase(grouping_pb.GroupCaseRequest(
            scheme_id=scheme, case=case, explain=True))
    return [(f.path, r) for f, r in zip(fields, reply.results, strict=True)], grouped.result


def _print(validations: list[tuple[str, Any]], group: Any) -> None:
    table = Table(title="codes of the sample settlement list (ValidateCodes over gRPC)")
    for column in ("field", "code", "system", "status", "reason"):
        table.add_column(column)
    colours = {"VALID": "green", "UNKNOWN": "yellow", "MALFORMED": "red", "RETIRED": "magenta"}
    for path, r in validations:
        status = coding_pb.ValidationStatus.Name(r.status).removeprefix("VALIDATION_STATUS_")
        table.add_row(path, r.code, r.code_system_id, f"[{colours[status]}]{status}[/]", r.reason)
    console.print(table)
    status = grouping_pb.GroupStatus.Name(group.status).removeprefix("GROUP_STATUS_")
    console.print(f"\n[bold]grouped[/] ({group.scheme_id} {group.scheme_version}): DRG [bold]{group.drg}[/] "
                  f"ADRG {group.adrg} MDC {group.mdc} — {status}")
    for line in group.trace:
        console.print(f"  · {line}")
