"""`medpay collection ...`: bulk imports of lists and settlement records, what waits, bulk regrouping."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from libs.common.db.engine import session_factory
from libs.common.errors import MedpayError
from libs.common.runtime import Runtime

from .bootstrap import CollectionApp, build_app
from .service_layer.bulk_import import CHUNK, BulkImport, start_workers
from .service_layer.import_jobs import open_lines
from .service_layer.pending import pending
from .service_layer.preparers import ChunkWorkers, default_workers
from .service_layer.record_import import RecordImport, RecordImportReport
from .service_layer.regroup import regroup
from .service_layer.unit_of_work import CollectionUnitOfWork

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped


def add_commands(sub: Any) -> None:
    collection = sub.add_parser("collection", help="settlement-list intake operations")
    cmds = collection.add_subparsers(dest="collection_command", required=True)
    imp = cmds.add_parser("import", help="bulk-import 4101A requests from FILE.jsonl[.gz] (resumable)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--records", type=Path, metavar="RECORDS",
                     help="settlement records (2304/2305 JSON lines) to import first and join to the lists")
    imp.add_argument("--chunk", type=int, default=CHUNK, help="lines per transaction (default %(default)s)")
    imp.add_argument("--workers", type=int, default=None,
                     help="worker processes preparing chunks beside this one, forked before it connects (default: "
                          "one per core, at most four, for files of 1 MiB or more; 0: none)")
    imp.set_defaults(handler=run_import)
    rec = cmds.add_parser("import-records",
                          help="bulk-import settlement records (2304/2305) from FILE.jsonl[.gz] (resumable)")
    rec.add_argument("file", type=Path)
    rec.add_argument("--chunk", type=int, default=5000, help="records per transaction (default %(default)s)")
    rec.set_defaults(handler=run_import_records)
    pen = cmds.add_parser("pending", help="lists waiting for their settlement record, records waiting for their list")
    pen.add_argument("--region", default="", help="only this region (6 digits)")
    pen.add_argument("--institution", default="", help="only this institution (fixmedins_code)")
    pen.add_argument("--limit", type=int, default=20, help="items listed per kind (default %(default)s)")
    pen.set_defaults(handler=run_pending)
    reg = cmds.add_parser("regroup", help="regroup stored cases of a region and period")
    reg.add_argument("--region", required=True)
    reg.add_argument("--period", required=True, help="settlement period yyyy-MM")
    reg.add_argument("--scheme", required=True, help="scheme id, e.g. chs-drg-zhejiang-2022")
    reg.set_defaults(handler=run_regroup)


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    for path in (args.file, args.records):
        if path is not None and not path.is_file():
            console.print(f"medpay collection import: {path} does not exist")
            return 2
    count = 0 if args.file is None else args.workers if args.workers is not None else default_workers(args.file)
    # Forked now, before this process opens a connection or a channel: they have its modules already.
    with start_workers(count, runtime.settings) as workers:
        return asyncio.run(_import(runtime, args.file, args.records, args.chunk, workers))


def run_import_records(args: argparse.Namespace, runtime: Runtime) -> int:
    if not args.file.is_file():
        console.print(f"medpay collection import-records: {args.file} does not exist")
        return 2
    return asyncio.run(_import(runtime, None, args.file, args.chunk, None))


async def _import(runtime: Runtime, lists: Path | None, records: Path | None, chunk: int,
                  workers: ChunkWorkers | None) -> int:
    app = await build_app(runtime)
    try:
        if records is not None:
            await _import_records(app, records, chunk)
        if lists is not None:
            await _import_lists(app, lists, chunk, workers)
        # Whatever an earlier, interrupted run left to join (the service's sweep does the same).
        await app.joiner.run()
    except MedpayError as failed:
        console.print(f"medpay collection import: {failed.message}")
        return 1
    finally:
        await app.close()
    return 0


async def _import_records(app: CollectionApp, path: Path, chunk: int) -> None:
    started = time.perf_counter()
    with _progress("records", path) as (bar, task):
        report = await RecordImport(app.new_uow, app.records, app.imports).run(
            path, chunk=chunk, progress=lambda n: bar.advance(task, n))
    if report.already_done:
        console.print(f"{path} was imported before ({_record_summary(report)}): nothing to do")
        return
    console.print(f"imported {path}: {_record_summary(report)}"
                  f"{f', resumed at line {report.resumed_at:,}' if report.resumed_at else ''}, "
                  f"in {time.perf_counter() - started:.1f}s")
    for line, why in report.refusals[:20]:
        console.print(f"  line {line}: {why}")


def _record_summary(report: RecordImportReport) -> str:
    o = report.outcomes
    return (f"{o['CREATED']:,} records created, {o['REVISED']:,} revised, {o['REVERSED']:,} reversed, "
            f"{o['UNCHANGED']:,} unchanged, {o['REFUSED']:,} refused")


async def _import_lists(app: CollectionApp, path: Path, chunk: int, workers: ChunkWorkers | None) -> None:
    started = time.perf_counter()
    with _progress("lists", path) as (bar, task):
        report = await BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply,
                                  settings=app.runtime.settings).run(
            path, chunk=chunk, progress=lambda n: bar.advance(task, n), workers=workers)
    if report.already_done:
        console.print(f"{path} was imported before ({report.accepted:,} accepted, {report.pending:,} pending, "
                      f"{report.rejected:,} rejected): nothing to do")
        return
    resumed = f", resumed at line {report.resumed_at:,}" if report.resumed_at else ""
    console.print(f"imported {path}: {report.accepted:,} accepted, {report.pending:,} pending (waiting for their "
                  f"settlement record), {report.rejected:,} rejected, {report.skipped:,} already present{resumed}, "
                  f"in {time.perf_counter() - started:.1f}s")


class _progress:
    """A progress bar over a file's lines (a total when the file is not compressed)."""

    def __init__(self, what: str, path: Path) -> None:
        columns = (TextColumn(f"importing {what}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self._bar = Progress(*columns, console=console, transient=True)
        self._total = _count_lines(path)

    def __enter__(self) -> tuple[Progress, Any]:
        self._bar.__enter__()
        return self._bar, self._bar.add_task("import", total=self._total)

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)


def _count_lines(path: Path) -> int | None:
    if path.suffix == ".gz":
        return None
    with open_lines(path) as f:
        return sum(1 for _ in f)


def run_pending(args: argparse.Namespace, runtime: Runtime) -> int:
    return asyncio.run(_pending(runtime, args))


async def _pending(runtime: Runtime, args: argparse.Namespace) -> int:
    engine = runtime.engine(pool_size=2)
    sessions = session_factory(engine)
    try:
        pages = {kind: await pending(lambda: CollectionUnitOfWork(sessions), region=args.region,
                                     fixmedins_code=args.institution, kinds=[kind], limit=args.limit)
                 for kind in ("LIST", "RECORD")}
    except MedpayError as failed:
        console.print(f"medpay collection pending: {failed.message}")
        return 2
    finally:
        await engine.dispose()
    now = datetime.now(UTC)
    totals = pages["LIST"]
    out = Console(soft_wrap=True)
    out.print(f"lists waiting for their settlement record: {totals.lists_waiting:,}"
              + (f" (oldest {_age(now - totals.oldest_list_since)})" if totals.oldest_list_since else ""))
    out.print(f"settlement records waiting for their list: {totals.records_waiting:,}"
              + (f" (oldest {_age(now - totals.oldest_record_since)})" if totals.oldest_record_since else ""))
    for kind, title in (("LIST", "lists waiting"), ("RECORD", "records waiting")):
        items = pages[kind].items
        if not items:
            continue
        table = Table(title=f"{title} (oldest {len(items)})")
        for column in ("institution", "setl_id", "psn_no", "list id", "since", "waited"):
            table.add_column(column)
        for i in items:
            table.add_row(i.fixmedins_code, i.setl_id, i.psn_no, i.setl_list_id or "-",
                          i.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), _age(now - i.since))
        out.print(table)
    return 0


def _age(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes}m" if hours else f"{minutes}m {seconds}s"


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
