"""Read code tables from the reference directory (and the bundled sample) into ``Dataset`` values.

Each source names the file it reads, relative to the reference directory. Registries the shared material
does not hold (institutions, doctors) come from the sample bundled with medpay.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from libs.common.reference import BUNDLED_SAMPLE

from ..domain.model import CodeRow, Dataset
from ..domain.systems import DIVISION, DX_MAP, ICD9CM3, ICD10, PX_MAP

# ICD-10 and ICD-9-CM3 医保版 2.0 were issued by the NHSA in 2020 and are loaded as in force since then.
IN_FORCE_2_0 = date(2020, 1, 1)
SAMPLE_SINCE = date(2024, 1, 1)



@dataclass(frozen=True)
class Source:
    system_id: str
    version: str
    effective_start: date
    files: tuple[str, ...]
    parse: Callable[[list[str]], Iterator[CodeRow]]
    sample_only: bool = False
    """Read from the bundled sample even when a reference directory is given (no public registry exists)."""


class SourceMissing(FileNotFoundError):
    pass


def _tsv_pairs(texts: list[str]) -> Iterator[CodeRow]:
    for text in texts:
        for row in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
            if row and row[0] and row[0] not in ("code", "source_code"):
                yield CodeRow(row[0].strip(), row[1].strip() if len(row) > 1 else "")


def _maps(texts: list[str]) -> Iterator[CodeRow]:
    for row in _tsv_pairs(texts):
        yield CodeRow(row.code, "", {"target": row.name})


def _csv_dicts(text: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(text))


def _divisions(texts: list[str]) -> Iterator[CodeRow]:
    provinces, cities, counties = texts
    for r in _csv_dicts(provinces):
        yield CodeRow(r["code"].ljust(6, "0"), r["name"], {"level": "province"})
    for r in _csv_dicts(cities):
        yield CodeRow(r["code"].ljust(6, "0"), r["name"], {"level": "prefecture",
                                                           "parent": r["provinceCode"].ljust(6, "0")})
    for r in _csv_dicts(counties):
        yield CodeRow(r["code"], r["name"], {"level": "county", "parent": r["cityCode"].ljust(6, "0")})


def _keyed_csv(key: str, name: str) -> Callable[[list[str]], Iterator[CodeRow]]:
    def parse(texts: list[str]) -> Iterator[CodeRow]:
        for r in _csv_dicts(texts[0]):
            attrs = {k: v for k, v in r.items() if k not in (key, name) and v}
            yield CodeRow(r[key].strip(), r.get(name, "").strip(), attrs)

    return parse


SOURCES: tuple[Source, ...] = (
    Source(ICD10, "2.0", IN_FORCE_2_0, ("codes/icd10_chs_2.0_diagnoses.tsv",), _tsv_pairs),
    Source(ICD9CM3, "2.0", IN_FORCE_2_0, ("codes/icd9cm3_chs_2.0_procedures.tsv",), _tsv_pairs),
    Source(DX_MAP, "2.0", IN_FORCE_2_0, ("codes/dx_code_map.tsv",), _maps),
    Source(PX_MAP, "2.0", IN_FORCE_2_0, ("codes/proc_code_map.tsv",), _maps),
    Source(DIVISION, "2023", date(2023, 1, 1), ("codes/admin-divisions/provinces.csv",
           "codes/admin-divisions/cities.csv", "codes/admin-divisions/counties.csv"), _divisions),
    Source("drug", "sample", SAMPLE_SINCE, ("codes/nhsa_drug_code_samples.csv",), _keyed_csv("drug_code", "reg_name")),
    Source("opsp-disease", "sample", SAMPLE_SINCE, ("codes/opsp_dise_sample_M_codes.csv",),
           _keyed_csv("opsp_dise_code", "name")),
    Source("institution", "sample", SAMPLE_SINCE, ("codes/institutions_sample.csv",),
           _keyed_csv("code", "name"), sample_only=True),
    Source("doctor", "sample", SAMPLE_SINCE, ("codes/doctors_sample.csv",), _keyed_csv("code", "name"),
           sample_only=True),
)


def read_dataset(source: Source, reference_dir: Path) -> Dataset:
    """Read one source; raises ``SourceMissing`` naming the file when it is absent."""
    root = BUNDLED_SAMPLE if source.sample_only else reference_dir
    digest = hashlib.sha256(f"{source.system_id}\0{source.version}".encode())
    texts = []
    for rel in source.files:
        path = root / rel
        if not path.is_file():
            raise SourceMissing(f"{path} is missing (needed for {source.system_id} {source.version})")
        data = path.read_bytes()
        digest.update(data)
        texts.append(data.decode("utf-8-sig"))
    rows = _unique(source.parse(texts))
    return Dataset(source.system_id, source.version, source.effective_start,
                   str(root / source.files[0]), rows, digest.hexdigest())


def _unique(rows: Iterator[CodeRow]) -> tuple[CodeRow, ...]:
    """Keep the first row of a repeated code: a table lists a code once per version."""
    seen: dict[str, CodeRow] = {}
    for row in rows:
        seen.setdefault(row.code, row)
    return tuple(seen.values())
