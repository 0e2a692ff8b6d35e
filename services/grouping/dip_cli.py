"""`medpay dip ...`: build a DIP catalogue from base-year cases and group cases against it, in-process.

Formats: ``shared/dip/FORMAT.md``. Bad input stops the command with the file and line at fault (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from json.encoder import encode_basestring_ascii as _quote
from pathlib import Path
from typing import Any

from libs.common.runtime import Runtime

from .adapters.dip_files import (
    DipFileError,
    catalogue_digest,
    load_procedure_classes,
    open_lines,
    parse_catalogue,
    read_cases,
    read_history,
    render_catalogue,
    surgery_list_path,
)
from .domain.dip.build import BuildError, CatalogueBuilder
from .domain.dip.case import ProcedureClasses
from .domain.dip.matching import DipGrouper


def add_commands(sub: Any) -> None:
    dip = sub.add_parser("dip", help="DIP: build a catalogue from base-year cases, group cases against it")
    cmds = dip.add_subparsers(dest="dip_command", required=True)
    build = cmds.add_parser("build", help="build catalogue.tsv from a history file (FORMAT.md)")
    build.add_argument("--history", required=True, type=Path, help="base-year cases, JSON lines (.gz read too)")
    build.add_argument("--threshold", required=True, type=int, help="cases a key needs to be a core group (e.g. 15)")
    build.add_argument("--out", required=True, type=Path, help="catalogue file to write (replaced atomically)")
    _common(build)
    build.set_defaults(handler=run_build)
    group = cmds.add_parser("group", help="group cases against a catalogue; one JSON line per case, input order")
    group.add_argument("--catalogue", required=True, type=Path, help="catalogue.tsv")
    group.add_argument("--cases", required=True, type=Path, help="cases, JSON lines (.gz read too), '-' for stdin")
    _common(group)
    group.set_defaults(handler=run_group)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    parser.add_argument("--or-procedures", type=Path,
                        help="surgery list (default <reference>/grouping/chs-drg-1.1/or_procedures.tsv)")


def run_build(args: argparse.Namespace, runtime: Runtime) -> int:
    try:
        classes = _classes(args, runtime)
        builder = CatalogueBuilder(classes)
        with open_lines(args.history) as lines:
            builder.add_all(read_history(lines, str(args.history)))
        catalogue = builder.catalogue(args.threshold)
    except (DipFileError, BuildError) as bad:
        return _refuse(bad)
    rendered = render_catalogue(catalogue)
    _write_atomically(args.out, rendered)
    core, cases = catalogue.core, catalogue.cases
    share = f"{catalogue.core_cases / cases:.1%}" if cases else "-"
    print(f"{args.out}: {len(catalogue)} groups ({len(core)} core, {len(catalogue) - len(core)} comprehensive) "
          f"from {cases:,} cases, {share} in core groups; {builder.skipped:,} without a principal diagnosis "
          f"skipped; digest {catalogue_digest(rendered, classes)[:12]}")
    return 0


def run_group(args: argparse.Namespace, runtime: Runtime) -> int:
    try:
        classes = _classes(args, runtime)
        data = args.catalogue.read_bytes()
        catalogue = parse_catalogue(data, str(args.catalogue), classes)
        grouper = DipGrouper(args.catalogue.stem, "sha256:" + catalogue_digest(data, classes)[:12], catalogue,
                             classes)
        source = "<stdin>" if str(args.cases) == "-" else str(args.cases)
        lines = sys.stdin.buffer if source == "<stdin>" else open_lines(args.cases)
        out = sys.stdout.buffer
        group = grouper.group
        with lines:
            for entry in read_cases(lines, source):
                r = group(entry.case)
                out.write(result_line(entry.case_id, r.group, r.kind.value))
        out.flush()
    except DipFileError as bad:
        return _refuse(bad)
    return 0


def result_line(case_id: str | int, group: str, kind: str) -> bytes:
    """``{"case_id": ..., "group": ..., "kind": ...}`` spaced and escaped as Python's ``json.dumps`` writes it
    (the form of FORMAT.md's expected files), built directly because it is written once per case."""
    ident = str(case_id) if isinstance(case_id, int) else _quote(case_id)
    return f'{{"case_id": {ident}, "group": {_quote(group)}, "kind": "{kind}"}}\n'.encode()


def _classes(args: argparse.Namespace, runtime: Runtime) -> ProcedureClasses:
    return load_procedure_classes(args.or_procedures or surgery_list_path(runtime.reference_dir))


def _refuse(problem: Exception) -> int:
    sys.stdout.flush()
    print(f"medpay: {problem}", file=sys.stderr)
    return 2


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
