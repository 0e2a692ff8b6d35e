"""Validation against an in-memory index: VALID, UNKNOWN, MALFORMED, RETIRED, with the deciding version."""

from __future__ import annotations

from services.coding.domain.model import ActiveIndex, CodeRef, ValidationStatus, VersionIndex
from services.coding.domain.validation import map_codes, validate, validate_one

INDEX = ActiveIndex(
    versions={
        "icd10-chs": VersionIndex("2.0", {"I21.000x005": False, "I21.900": True}),
        "icd10-chs-map": VersionIndex("2.0", {"I21.900x001": False}, {"I21.900x001": "I21.000"}),
        "institution": VersionIndex("sample", {"H33070300089": False}),
    },
    divisions=frozenset({"330703", "330700"}),
)


def check(code: str, system: str = "") -> tuple[ValidationStatus, str, str]:
    v = validate_one(CodeRef(system, code), INDEX)
    return v.status, v.version, v.reason


def test_known_active_code_is_valid_with_its_version() -> None:
    assert check("I21.000x005")[:2] == (ValidationStatus.VALID, "2.0")


def test_well_formed_absent_code_is_unknown_not_malformed() -> None:
    status, version, reason = check("Q99.999")
    assert (status, version) == (ValidationStatus.UNKNOWN, "2.0") and "well-formed" in reason


def test_unknown_code_of_another_version_points_to_its_mapping() -> None:
    assert "maps to I21.000" in check("I21.900x001", "icd10-chs")[2]


def test_retired_code() -> None:
    assert check("I21.900")[0] is ValidationStatus.RETIRED


def test_malformed_and_shapeless() -> None:
    assert check("X1")[0] is ValidationStatus.MALFORMED
    assert check("I21", "institution")[0] is ValidationStatus.MALFORMED


def test_system_without_a_loaded_version_is_unknown_and_says_so() -> None:
    status, version, reason = check("XA01ABD075A002010100483")
    assert (status, version) == (ValidationStatus.UNKNOWN, "") and "no version of drug" in reason


def test_unknown_code_system_is_reported_per_code() -> None:
    assert check("A", "no-such-system")[0] is ValidationStatus.MALFORMED


def test_batch_keeps_request_order() -> None:
    codes = ["X1", "I21.000x005", "H33070300089"]
    assert [v.code for v in validate([CodeRef("", c) for c in codes], INDEX)] == codes


def test_mapping_reports_unmapped_codes_and_maps_own_codes_to_themselves() -> None:
    assert map_codes("icd10-chs", ["I21.900x001", "I21.000x005", "Z99.999"], INDEX) == [
        ("I21.900x001", "I21.000"), ("I21.000x005", "I21.000x005"), ("Z99.999", "")]
