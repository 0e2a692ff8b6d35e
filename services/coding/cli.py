"""`medpay coding ...`: import the code tables, validate codes (in-process against the database)."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from libs.common.runtime import Runtime

from .bootstrap import build_app
from .domain.model import CodeRef
from .domain.validation import validate
from .service_layer.importing import ImportOutcome, ImportProgress, import_codes

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped


def add_commands(sub: Any) -> None:
    coding = sub.add_parser("coding", help="code-standard management")
    cmds = coding.add_subparsers(dest="coding_command", required=True)
    imp = cmds.add_parser("import", help="load the code tables from the reference directory (idempotent)")
    imp.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    imp.set_defaults(handler=run_import)
    val = cmds.add_parser("validate", help="validate codes: CODE<TAB>STATUS<TAB>reason per line")
    val.add_argument("--system", default="", help="code system id (default: inferred from each code's shape)")
    val.add_argument("codes", nargs="+", metavar="CODE")
    val.set_defaults(handler=run_validate)


class _Bar(ImportProgress):
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def begin(self, system_id: str, total: int) -> None:
        self._task = self._progress.add_task(system_id, total=total)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)

    def end(self, outcome: ImportOutcome) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=outcome.code_count,
                                  description=f"{outcome.system_id} [{outcome.outcome}]")
        self._task = None


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    return asyncio.run(_import(runtime))


async def _import(runtime: Runtime) -> int:
    app = build_app(runtime)
    started = time.perf_counter()
    console.print(f"importing code tables from {runtime.reference_dir}")
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            outcomes = await import_codes(app.new_uow, runtime.reference_dir, _Bar(progress))
    finally:
        await app.close()
    for o in outcomes:
        if o.outcome == "skipped":
            console.print(f"[yellow]skipped[/] {o.system_id}: {o.detail}")
    changed = [o for o in outcomes if o.outcome in ("created", "updated")]
    elapsed = time.perf_counter() - started
    if changed:
        codes = sum(o.code_count for o in changed)
        console.print(f"{len(changed)} version(s) loaded, {codes:,} codes in {elapsed:.1f}s")
    else:
        console.print(f"nothing changed: every code version is already loaded ({elapsed:.1f}s)")
    return 0


def run_validate(args: argparse.Namespace, runtime: Runtime) -> int:
    return asyncio.run(_validate(runtime, args.system, args.codes))


async def _validate(runtime: Runtime, system: str, codes: list[str]) -> int:
    app = build_app(runtime)
    try:
        await app.index.refresh()
    finally:
        await app.close()
    if not app.index.current.versions:
        console.print("no code versions are loaded: run `medpay coding import` first")
    for v in validate((CodeRef(system, c) for c in codes), app.index.current):
        print(f"{v.code}\t{v.status.value}\t{v.reason}")
    return 0
