"""Read what the generator needs from the reference directory, and write its output files."""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, cast

import orjson

from ..grouping.adapters.scheme_files import load_code_tables, load_scheme
from .catalogue import build_catalogue
from .faults import FaultContext
from .generator import Reference
from .params import SynthParams
from .region import Doctor, Hospital, build_hospitals, counties_of


def code_names(reference_dir: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    for rel in ("codes/icd10_chs_2.0_diagnoses.tsv", "codes/icd9cm3_chs_2.0_procedures.tsv"):
        with (reference_dir / rel).open(encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 2 and row[0] != "code":
                    names.setdefault(row[0], row[1])
    return names


def divisions(reference_dir: Path) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    folder = reference_dir / "codes" / "admin-divisions"
    with (folder / "counties.csv").open(encoding="utf-8") as f:
        counties = [(r["code"], r["name"], r["cityCode"]) for r in csv.DictReader(f)]
    with (folder / "cities.csv").open(encoding="utf-8") as f:
        cities = {r["code"]: r["name"] for r in csv.DictReader(f)}
    return counties, cities


def load_reference(params: SynthParams, reference_dir: Path) -> tuple[Reference, list[Doctor]]:
    scheme = load_scheme(reference_dir, params.scheme)
    document = json.loads((reference_dir / "grouping" / params.scheme / "scheme.json").read_text(encoding="utf-8"))
    codes = load_code_tables(reference_dir)
    if params.dip:
        mix = params.dip_mix
        catalogue = build_catalogue(scheme, document, codes, seed=params.seed, attempts=4 * mix.variants_per_drg,
                                    keep=mix.variants_per_drg, diagnostic_rate=mix.diagnostic_rate)
    else:
        catalogue = build_catalogue(scheme, document, codes, seed=params.seed)
    counties, cities = divisions(reference_dir)
    rng = random.Random(f"region:{params.seed}")
    county_list = counties_of(params.region, counties, cities)
    hospitals, doctors = build_hospitals(params, county_list, cities[params.region[:4]], rng)
    ref = Reference(catalogue, code_names(reference_dir), hospitals, _fault_context(codes.diagnoses),
                    dict(county_list))
    return ref, doctors


def _fault_context(known: frozenset[str]) -> FaultContext:
    pregnancy = sorted(c for c in known if c.startswith("O") and "+" not in c)
    categories = sorted({c[:3] for c in known if c[:1] in "ABCDEFGIJKLM"})
    unknown = [f"{cat}.{n}x9{n}{n}" for cat in categories for n in "78" if f"{cat}.{n}x9{n}{n}" not in known]
    return FaultContext(tuple(unknown[:500]), tuple(pregnancy))


def institutions_rows(hospitals: list[Hospital]) -> Iterator[dict[str, Any]]:
    for h in hospitals:
        yield {"fixmedins_code": h.code, "fixmedins_name": h.name, "admdvs": h.county, "hosp_lv": h.level,
               "type": h.kind, "beds": h.beds, "doctors": len(h.doctors)}


def doctor_rows(doctors: list[Doctor]) -> Iterator[dict[str, Any]]:
    for d in doctors:
        yield {"dr_code": d.code, "dr_name": d.name, "fixmedins_code": d.hospital, "dept_code": d.department}


class Output:
    """The output folder: JSON lines, optionally gzip'ed with a fixed timestamp (byte-identical reruns)."""

    def __init__(self, folder: Path, gzip_output: bool) -> None:
        self.folder = folder
        self.gzip = gzip_output
        self._stack = ExitStack()

    def __enter__(self) -> Output:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def open(self, name: str) -> IO[bytes]:
        path = self.folder / (name + (".gz" if self.gzip else ""))
        raw = self._stack.enter_context(path.open("wb", buffering=1 << 20))
        if not self.gzip:
            return raw
        # Level 1: large runs are I/O-bound at the default level 9, and compress nearly as well.
        packed = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="", compresslevel=1)
        return cast(IO[bytes], self._stack.enter_context(packed))

    def write_all(self, name: str, rows: Iterator[Mapping[str, Any]]) -> int:
        out = self.open(name)
        n = 0
        for row in rows:
            out.write(json_line(row))
            n += 1
        return n


def json_line(row: Mapping[str, Any]) -> bytes:
    """One JSON line (orjson appends the newline itself: no copy of a 4 KB list per write)."""
    line: bytes = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
    return line
