"""DIP files: case and history JSON lines in, ``catalogue.tsv`` out and back, and the surgery list.

Formats: ``shared/dip/FORMAT.md``. Every problem with an input names its file and line (``DipFileError``).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import msgspec
import orjson

from ..domain.dip.case import CaseType, DipCase, ProcedureClasses
from ..domain.dip.catalogue import Catalogue, CatalogueGroup, GroupKind, group_problem
from ..domain.dip.scheme import (
    REFERENCE_VERSION,
    CatalogueProvenance,
    CatalogueVersion,
    SchemeIdError,
    parse_scheme_id,
)

SURGERY_LIST = "grouping/chs-drg-1.1/or_procedures.tsv"
"""FORMAT.md: surgery is the first column of this file of the reference directory."""
SAMPLE_SURGERY_LIST = "grouping/medpay-sample/or_procedures.tsv"
"""Where the bundled sample (no chs-drg-1.1 pack) keeps its list, so DIP runs without ../shared."""
HEADER = ("group_id", "kind", "dx", "procedures", "type", "cases", "mean_cost")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TYPES = {t.value: t for t in CaseType}
_KINDS = {k.value: k for k in GroupKind}


class DipFileError(ValueError):
    """A line of an input file that cannot be used: which file, which line (0: the file as a whole), why."""

    def __init__(self, file: str, line: int, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        super().__init__(f"{file}:{line}: {problem}" if line else f"{file}: {problem}")


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One case of a cases file: its id as written (a string or an integer), the case, and ``total_cost`` as
    written (``None`` when absent: only building needs it)."""

    line: int
    case_id: str | int
    case: DipCase
    cost: Any


# ---- the surgery list -----------------------------------------------------------------------------------------

def surgery_list_path(reference_dir: Path) -> Path:
    """The chs-drg-1.1 list; in the bundled sample (no such pack) the sample pack's list."""
    path = reference_dir / SURGERY_LIST
    if not path.is_file() and (reference_dir / SAMPLE_SURGERY_LIST).is_file():
        return reference_dir / SAMPLE_SURGERY_LIST
    return path


def load_procedure_classes(path: Path) -> ProcedureClasses:
    if not path.is_file():
        raise FileNotFoundError(f"surgery list {path} is missing (set MEDPAY_REFERENCE_DIR or --or-procedures)")
    return parse_surgery_list(path.read_bytes(), str(path))


def parse_surgery_list(data: bytes, source: str) -> ProcedureClasses:
    """First column of a tab-separated file whose first line is a header; cells trimmed, empty ones ignored."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as bad:
        raise DipFileError(source, 0, f"not UTF-8: {bad}") from None
    if not lines:
        raise DipFileError(source, 0, "empty: expected a header line and one procedure code per line")
    codes = frozenset(code for line in lines[1:] if (code := line.split("\t", 1)[0].strip()))
    return ProcedureClasses(codes, hashlib.sha256(data).hexdigest())


# ---- cases and history ----------------------------------------------------------------------------------------

def open_lines(path: Path) -> IO[bytes]:
    """A cases file, gzip-compressed when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes like IO[bytes]
    return path.open("rb")


class _Line(msgspec.Struct, gc=False):
    """The fields of a case line that are read, typed: a line that decodes into this is well formed (the others
    are skipped by the decoder); any other line takes the checking path, which says what is wrong with it."""

    case_id: str | int | None = None
    dx: list[str] | None = None
    px: list[str] | None = None
    total_cost: str | int | float | None = None


_decode_line = msgspec.json.Decoder(_Line).decode


def _well_formed(raw: bytes) -> _Line | None:
    """The line typed in one C call (the common case, about twice as fast as decoding to a dict and checking each
    field in Python); ``None`` for a line the checking path must read (malformed, or without a ``case_id``)."""
    try:
        line = _decode_line(raw)
    except msgspec.MsgspecError:
        return None
    return line if line.case_id is not None else None


def read_cases(lines: Iterable[bytes], source: str) -> Iterator[CaseLine]:
    """The cases of a JSON-lines file in order; blank lines are skipped, anything else malformed is an error."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = _well_formed(raw)
        if line is not None:
            yield CaseLine(number, line.case_id,  # type: ignore[arg-type]  # not None: _well_formed
                           DipCase(tuple(line.dx) if line.dx else (), tuple(line.px) if line.px else ()),
                           line.total_cost)
            continue
        obj = _object(raw, source, number)
        yield CaseLine(number, _case_id(obj, source, number),
                       DipCase(_codes(obj, "dx", source, number), _codes(obj, "px", source, number)),
                       obj.get("total_cost"))


def read_history(lines: Iterable[bytes], source: str) -> Iterator[tuple[DipCase, Decimal]]:
    """Base-year cases with their costs. A case without a principal diagnosis is skipped by the builder, but its
    ``total_cost`` must still be an amount: the file is checked as a whole."""
    amount = _AMOUNT.fullmatch
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        line = _well_formed(raw)
        if line is not None:
            cost = line.total_cost
            yield (DipCase(tuple(line.dx) if line.dx else (), tuple(line.px) if line.px else ()),
                   Decimal(cost) if type(cost) is str and amount(cost) else parse_cost(cost, source, number))
            continue
        obj = _object(raw, source, number)
        _case_id(obj, source, number)
        yield (DipCase(_codes(obj, "dx", source, number), _codes(obj, "px", source, number)),
               parse_cost(obj.get("total_cost"), source, number))


def parse_cost(value: Any, source: str, line: int) -> Decimal:
    """``total_cost``: a money string (``"12345.67"``); a JSON number is read from its text. Never negative."""
    if type(value) is str and _AMOUNT.fullmatch(value):
        return Decimal(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        what = "missing" if value is None else f"not a money string: {value!r}"
        raise DipFileError(source, line, f"total_cost is {what}")
    text = value.strip()
    if not _AMOUNT.fullmatch(text):
        raise DipFileError(source, line, f"total_cost {value!r} is not a non-negative decimal amount")
    return Decimal(text)


def _object(raw: bytes, source: str, line: int) -> dict[str, Any]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as bad:
        raise DipFileError(source, line, f"not valid JSON: {bad}") from None
    if type(obj) is not dict:
        raise DipFileError(source, line, "a case is a JSON object")
    return obj


def _case_id(obj: dict[str, Any], source: str, line: int) -> str | int:
    case_id = obj.get("case_id")
    if type(case_id) is str or type(case_id) is int:
        return case_id
    raise DipFileError(source, line, "case_id is required: a string (or an integer)")


def _codes(obj: dict[str, Any], name: str, source: str, line: int) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return ()
    if type(value) is not list:
        raise DipFileError(source, line, f"{name} must be a list of code strings")
    try:
        "".join(value)  # C speed: succeeds exactly when every element is a str
    except TypeError:
        i, code = next((i, c) for i, c in enumerate(value) if not isinstance(c, str))
        raise DipFileError(source, line, f"{name}[{i}] must be a code string, not {code!r}") from None
    return tuple(value)


# ---- catalogue.tsv --------------------------------------------------------------------------------------------

def render_catalogue(catalogue: Catalogue) -> bytes:
    """FORMAT.md's ``catalogue.tsv``: the header, then one row per group in byte order of ``group_id``."""
    rows = ["\t".join(HEADER)]
    for g in catalogue:
        rows.append(f"{g.group_id}\t{g.kind.value}\t{g.dx}\t{'+'.join(g.procedures)}\t{g.case_type.value}\t"
                    f"{g.cases}\t{g.mean_cost:.2f}")
    return ("\n".join(rows) + "\n").encode("utf-8")


def parse_catalogue(data: bytes, source: str, classes: ProcedureClasses | None = None) -> Catalogue:
    """Read ``catalogue.tsv`` back, checking every row (and, with ``classes``, core types against that list)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise DipFileError(source, 0, f"not UTF-8: {bad}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or tuple(lines[0].split("\t")) != HEADER:
        raise DipFileError(source, 1, "the header must be " + "<TAB>".join(HEADER))
    groups: list[CatalogueGroup] = []
    previous = ""
    for number, line in enumerate(lines[1:], start=2):
        group = _row(line, source, number)
        problem = group_problem(group, classes)
        if problem is not None:
            raise DipFileError(source, number, f"group {group.group_id}: {problem}")
        if groups and group.group_id <= previous:
            raise DipFileError(source, number, f"group {group.group_id} is "
                               f"{'listed twice' if group.group_id == previous else 'out of byte order'}")
        previous = group.group_id
        groups.append(group)
    return Catalogue(tuple(groups))


def _row(line: str, source: str, number: int) -> CatalogueGroup:
    cells = line.split("\t")
    if len(cells) != len(HEADER):
        raise DipFileError(source, number, f"expected {len(HEADER)} tab-separated columns, found {len(cells)}")
    group_id, kind, dx, procedures, case_type, cases, mean = cells
    if kind not in _KINDS:
        raise DipFileError(source, number, f"kind {kind!r} is not core or comprehensive")
    if case_type not in _TYPES:
        raise DipFileError(source, number, f"type {case_type!r} is not S, T, D or C")
    if not cases.isascii() or not cases.isdigit():
        raise DipFileError(source, number, f"cases {cases!r} is not a whole number")
    if not _AMOUNT.fullmatch(mean) or len(mean.partition(".")[2]) != 2:
        raise DipFileError(source, number, f"mean_cost {mean!r} is not an amount with two decimals")
    return CatalogueGroup(group_id, _KINDS[kind], dx, tuple(procedures.split("+")) if procedures else (),
                          _TYPES[case_type], int(cases), Decimal(mean))


def catalogue_digest(rendered: bytes, classes: ProcedureClasses) -> str:
    """SHA-256 over the catalogue file and the surgery list's digest: both decide a case's group."""
    return hashlib.sha256(rendered + b"\0" + classes.digest.encode()).hexdigest()


# ---- catalogues shipped in the reference directory -----------------------------------------------------------

def load_reference_catalogues(reference_dir: Path, classes: ProcedureClasses) -> list[CatalogueVersion]:
    """``<reference>/dip/dip-<region>-<year>/catalogue.tsv``: one version each (number 0, source
    ``reference``); any stored version of the same scheme supersedes it. Other folders (``examples``) are not
    schemes."""
    root = reference_dir / "dip"
    found: list[CatalogueVersion] = []
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        path = folder / "catalogue.tsv"
        if not path.is_file():
            continue
        try:
            parse_scheme_id(folder.name)
        except SchemeIdError:
            continue
        data = path.read_bytes()
        catalogue = parse_catalogue(data, str(path), classes)
        found.append(CatalogueVersion(folder.name, REFERENCE_VERSION, catalogue_digest(data, classes), classes.digest,
                                      catalogue, CatalogueProvenance("reference", note=str(path))))
    return found
