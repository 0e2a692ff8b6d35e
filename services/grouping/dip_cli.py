"""`medpay dip ...`: build a DIP catalogue from base-year cases and group cases against it, in-process.

Formats: ``shared/dip/FORMAT.md``. Bad input stops the command with the file and line at fault (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
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
    imp = cmds.add_parser("import", help="publish a catalogue file as the next version of a DIP scheme (database)")
    imp.add_argument("--scheme", required=True, help="scheme id dip-<region>-<year>, e.g. dip-330700-2026")
    imp.add_argument("--catalogue", required=True, type=Path, help="catalogue.tsv (checked row by row)")
    imp.add_argument("--note", default="", help="a word on where the catalogue comes from, stored with it")
    _common(imp)
    imp.set_defaults(handler=run_import)
    versions = cmds.add_parser("versions", help="list the published versions of DIP schemes (database)")
    versions.add_argument("--scheme", help="only this scheme")
    _common(versions)
    versions.set_defaults(handler=run_versions)


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


def run_import(args: argparse.Namespace, runtime: Runtime) -> int:
    from .domain.dip.scheme import CatalogueProvenance, SchemeIdError

    try:
        classes = _classes(args, runtime)
        catalogue = parse_catalogue(args.catalogue.read_bytes(), str(args.catalogue), classes)
    except DipFileError as bad:
        return _refuse(bad)
    try:
        published, created = asyncio.run(_publish(runtime, classes, args.scheme, catalogue,
                                                  CatalogueProvenance("import", note=args.note or str(args.catalogue))))
    except SchemeIdError as bad:
        return _refuse(bad)
    state = "published" if created else "unchanged: already the latest version,"
    print(f"{published.scheme_id} version {published.version} {state} {published.label}: {len(catalogue)} groups "
          f"({len(catalogue.core)} core), {catalogue.cases:,} base-year cases")
    return 0


def run_versions(args: argparse.Namespace, runtime: Runtime) -> int:
    rows = asyncio.run(_versions(runtime, args.scheme))
    print("scheme\tversion\tsource\tthreshold\tgroups\tcore_groups\tcases\tcore_cases\tcreated\tdigest")
    for r in rows:
        print("\t".join(str(v) for v in r))
    return 0


async def _publish(runtime: Runtime, classes: ProcedureClasses, scheme_id: str, catalogue: Any,
                   provenance: Any) -> Any:
    from libs.common.db.engine import session_factory

    from .service_layer.dip_catalogues import DipCatalogues
    from .service_layer.unit_of_work import GroupingUnitOfWork

    engine = runtime.engine(pool_size=1)
    try:
        sessions = session_factory(engine)
        holder = DipCatalogues(classes, new_uow=lambda: GroupingUnitOfWork(sessions))
        return await holder.publish(scheme_id, catalogue, provenance)
    finally:
        await engine.dispose()


async def _versions(runtime: Runtime, scheme_id: str | None) -> list[tuple[object, ...]]:
    from sqlalchemy import select

    from .adapters.tables import dip_catalogue_version as t

    engine = runtime.engine(pool_size=1)
    try:
        query = select(t.c.scheme_id, t.c.version, t.c.source, t.c.threshold, t.c.group_count, t.c.core_group_count,
                       t.c.case_count, t.c.core_case_count, t.c.created_time, t.c.digest
                       ).order_by(t.c.scheme_id, t.c.version)
        if scheme_id:
            query = query.where(t.c.scheme_id == scheme_id)
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(*("-" if v is None else v for v in r[:8]), r.created_time.isoformat(timespec="seconds"),
                 r.digest[:12]) for r in rows]
    finally:
        await engine.dispose()


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
