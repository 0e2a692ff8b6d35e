"""`medpay grouping ...`: offline batch grouping in-process (no server needed)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from libs.common.runtime import Runtime

from .adapters.case_json import CaseFormatError, case_from_json
from .adapters.loading import load_registry
from .domain.case import GroupStatus
from .domain.engine import group_case


def add_commands(sub: Any) -> None:
    grouping = sub.add_parser("grouping", help="group cases (CHS-DRG)")
    cmds = grouping.add_subparsers(dest="grouping_command", required=True)
    batch = cmds.add_parser("batch", help="group a JSON-lines file of cases; one JSON result line per case")
    batch.add_argument("--scheme", required=True, help="scheme id, e.g. chs-drg-1.1")
    batch.add_argument("--cases", required=True, type=Path, help="cases file (JSON lines), '-' for stdin")
    batch.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    batch.add_argument("--explain", action="store_true", help="add the decision trace to every line")
    batch.add_argument("--no-checks", action="store_true", help="skip the input checks (the algorithm alone)")
    batch.set_defaults(handler=run_batch)


def run_batch(args: argparse.Namespace, runtime: Runtime) -> int:
    registry = load_registry(runtime.reference_dir, [args.scheme])
    scheme = registry.scheme(args.scheme)
    codes = None if args.no_checks else registry.codes
    if not args.no_checks and codes is None:
        print("input checks need the ICD code tables in codes/ of the reference directory; "
              "pass --no-checks to group without them", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    with _open(args.cases) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            out.write(_group_line(scheme, codes, line, number, args.explain))
    out.flush()
    return 0


def _group_line(scheme: Any, codes: Any, line: bytes, number: int, explain: bool) -> bytes:
    case_id: Any = f"line {number}"
    try:
        obj = orjson.loads(line)
        if isinstance(obj, dict) and "id" in obj:
            case_id = obj["id"]
        case = case_from_json(obj)
    except (orjson.JSONDecodeError, CaseFormatError) as bad:
        return orjson.dumps({"id": case_id, "drg": "0000", "adrg": "", "mdc": "",
                             "status": GroupStatus.INVALID_INPUT.value, "message": str(bad)}) + b"\n"
    r = group_case(scheme, case, codes=codes, explained=explain)
    row: dict[str, Any] = {"id": case_id, "drg": r.drg, "adrg": r.adrg, "mdc": r.mdc, "status": r.status.value}
    if r.message:
        row["message"] = r.message
    if explain:
        row["trace"] = list(r.trace)
    return orjson.dumps(row) + b"\n"


class _open:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def __enter__(self) -> Iterator[bytes]:
        if str(self._path) == "-":
            return iter(sys.stdin.buffer)
        self._file = self._path.open("rb")
        return iter(self._file)

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
