"""`medpay collection ...`: bulk import of historical lists, bulk regrouping."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from libs.common.runtime import Runtime

from .bootstrap import build_app
from .service_layer.bulk_import import BulkImport
from .service_layer.regroup import regroup

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped


def add_commands(sub: Any) -> None:
    collection = sub.add_parser("collection", help="settlement-list intake operations")
    cmds = collection.add_subparsers(dest="collection_command", required=True)
    imp = cmds.add_parser("import", help="bulk-import 4101A requests from FILE.jsonl[.gz] (resumable)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--chunk", type=int, default=5000, help="lists per transaction (default %(default)s)")
    imp.set_defaults(handler=run_import)
    reg = cmds.add_parser("regroup", help="regroup stored cases of a region and period")
    reg.add_argument("--region", required=True)
    reg.add_argument("--period", required=True, help="settlement period yyyy-MM")
    reg.add_argument("--scheme", required=True, help="scheme id, e.g. chs-drg-zhejiang-2022")
    reg.set_defaults(handler=run_regroup)


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    if not args.file.is_file():
        console.print(f"medpay collection import: {args.file} does not exist")
        return 2
    return asyncio.run(_import(runtime, args.file, args.chunk))


async def _import(runtime: Runtime, path: Path, chunk: int) -> int:
    app = await build_app(runtime)
    started = time.perf_counter()
    try:
        total = _count_lines(path)
        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("import", total=total)
            importer = BulkImport(app.new_uow, app.uploads, app.grouping)
            report = await importer.run(path, chunk=chunk, progress=lambda n: bar.advance(task, n))
    finally:
        await app.close()
    elapsed = time.perf_counter() - started
    if report.already_done:
        console.print(f"{path} was imported before ({report.accepted:,} accepted, {report.rejected:,} rejected): "
                      f"nothing to do")
        return 0
    resumed = f", resumed at line {report.resumed_at:,}" if report.resumed_at else ""
    console.print(f"imported {path}: {report.accepted:,} accepted, {report.rejected:,} rejected, "
                  f"{report.skipped:,} already present{resumed}, in {elapsed:.1f}s")
    return 0


def _count_lines(path: Path) -> int | None:
    if path.suffix == ".gz":
        return None
    with path.open("rb") as f:
        return sum(1 for _ in f)


def run_regroup(args: argparse.Namespace, runtime: Runtime) -> int:
    return asyncio.run(_regroup(runtime, args))


async def _regroup(runtime: Runtime, args: argparse.Namespace) -> int:
    app = await build_app(runtime)
    started = time.perf_counter()
    try:
        columns = (TextColumn("regrouping"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("regroup", total=None)
            done = await regroup(app.new_uow, app.grouping, region=args.region, period=args.period,
                                 scheme_id=args.scheme, progress=lambda n: bar.advance(task, n))
    finally:
        await app.close()
    console.print(f"regrouped {done:,} cases of {args.region} {args.period} under {args.scheme} "
                  f"in {time.perf_counter() - started:.1f}s")
    return 0
