"""Structural validators of every code family (PRIMER section 2)."""

from __future__ import annotations

import pytest

from services.coding.adapters.sources import SOURCES, read_dataset
from services.coding.domain.shapes import infer_system, shape_problem

from ...support import reference_dir

DIVISIONS = frozenset({"330700", "330703", "330000"})


@pytest.mark.parametrize("system_id", ["icd10-chs", "icd9cm3-chs"])
def test_every_code_of_the_icd_tables_has_its_family_shape(system_id: str) -> None:
    source = next(s for s in SOURCES if s.system_id == system_id)
    rows = read_dataset(source, reference_dir()).rows
    bad = [r.code for r in rows if shape_problem(system_id, r.code, DIVISIONS)]
    assert rows and not bad, bad[:10]


@pytest.mark.parametrize(("system_id", "code"), [
    ("icd10-chs", "I21.000"), ("icd10-chs", "I21.000x005"), ("icd10-chs", "I10.x05"),
    ("icd10-chs", "A18.300x009+K93.0*"), ("icd9cm3-chs", "36.0600"), ("icd9cm3-chs", "00.5500x008"),
    ("icd9cm3-chs", "96.0800x005"), ("drug", "XA01ABD075A002010100483"), ("service-item", "001102000010000"),
    ("institution", "H33070300089"), ("pharmacy", "P33070300001"), ("doctor", "D330703000123"),
    ("nurse", "N330703000001"), ("pharmacist", "Y330703000001"), ("opsp-disease", "M03900"),
    ("consumable", "C0301010010101800154"), ("consumable", "C0301010010101800154-0000001"),
    ("admin-division", "330700"),
])
def test_well_formed_codes_pass(system_id: str, code: str) -> None:
    assert shape_problem(system_id, code, DIVISIONS) == ""


@pytest.mark.parametrize(("system_id", "code", "why"), [
    ("icd10-chs", "i21.000", "ICD-10"), ("icd10-chs", "I21.000x05", "ICD-10"), ("icd9cm3-chs", "36.060000", "ICD-9"),
    ("drug", "XA01ABD075A00201010048", "23 characters"), ("drug", "AA01ABD075A002010100483", "X or Z"),
    ("service-item", "00110200001000", "15 digits"), ("institution", "H3307030008", "12 characters"),
    ("institution", "H99999900089", "division 999999 does not exist"), ("doctor", "D33070300012", "13 characters"),
    ("opsp-disease", "M0390", "M + 5 digits"), ("admin-division", "33070", "6-digit"),
])
def test_malformed_codes_say_why(system_id: str, code: str, why: str) -> None:
    assert why in shape_problem(system_id, code, DIVISIONS)


@pytest.mark.parametrize(("code", "system_id"), [
    ("H33070300089", "institution"), ("XA01ABD075A002010100483", "drug"), ("I21.000x005", "icd10-chs"),
    ("36.0600", "icd9cm3-chs"), ("Q99.999", "icd10-chs"), ("M03900", "opsp-disease"),
    ("D330703000123", "doctor"), ("001102000010000", "service-item"), ("330700", "admin-division"),
    ("X1", None), ("", None),
])
def test_family_is_inferred_from_shape(code: str, system_id: str | None) -> None:
    assert infer_system(code) == system_id
