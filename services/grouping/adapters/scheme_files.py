"""Read scheme packs and the ICD code tables from the reference directory."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from ..domain.checks import CodeTables
from ..domain.compiler import SCHEME_FILE, TABLE_FILES, RawScheme, compile_scheme
from ..domain.errors import SchemeError
from ..domain.scheme import Scheme

DIAGNOSES_FILE = "codes/icd10_chs_2.0_diagnoses.tsv"
PROCEDURES_FILE = "codes/icd9cm3_chs_2.0_procedures.tsv"


def available_schemes(reference_dir: Path) -> list[str]:
    """Scheme ids (folder names) of the packs under ``reference_dir/grouping``."""
    root = reference_dir / "grouping"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SCHEME_FILE).is_file())


def load_scheme(reference_dir: Path, scheme_id: str) -> Scheme:
    folder = reference_dir / "grouping" / scheme_id
    if not (folder / SCHEME_FILE).is_file():
        known = ", ".join(available_schemes(reference_dir)) or "none"
        raise SchemeError(str(folder / SCHEME_FILE), "file", f"no such scheme pack (available: {known})")
    return compile_scheme(read_raw_scheme(folder))


def read_raw_scheme(folder: Path) -> RawScheme:
    digest = hashlib.sha256()
    raw_json = (folder / SCHEME_FILE).read_bytes()
    digest.update(raw_json)
    try:
        document = json.loads(raw_json, object_pairs_hook=_no_duplicate_keys)
    except SchemeError as exc:
        raise SchemeError(str(folder / SCHEME_FILE), exc.where, exc.problem) from exc
    except ValueError as exc:
        raise SchemeError(str(folder / SCHEME_FILE), "file", f"not valid JSON: {exc}") from exc
    tables = {}
    for name in TABLE_FILES:
        path = folder / name
        if not path.is_file():
            raise SchemeError(str(path), "file", "missing from the pack")
        data = path.read_bytes()
        digest.update(name.encode() + b"\0" + data)
        tables[name] = _rows(data.decode("utf-8"))
    return RawScheme(folder.name, document, tables, digest.hexdigest())


def load_code_tables(reference_dir: Path) -> CodeTables:
    return CodeTables(_first_column(reference_dir / DIAGNOSES_FILE), _first_column(reference_dir / PROCEDURES_FILE))


def _first_column(path: Path) -> frozenset[str]:
    if not path.is_file():
        raise FileNotFoundError(f"code table {path} is missing (set MEDPAY_REFERENCE_DIR)")
    return frozenset(cols[0] for _, cols in _rows(path.read_text(encoding="utf-8")) if cols and cols[0])


def _rows(text: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    reader = csv.reader(text.splitlines()[1:], delimiter="\t", quoting=csv.QUOTE_NONE)
    return tuple((i + 2, tuple(c.strip() for c in cols)) for i, cols in enumerate(reader) if cols)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SchemeError(SCHEME_FILE, f"key {key!r}", "defined twice")
        out[key] = value
    return out
