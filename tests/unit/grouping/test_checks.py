"""Input checks: each failure a coded status with a message; a clean case goes on to grouping."""

from __future__ import annotations

from typing import Any

import pytest

from services.grouping.domain.case import GroupStatus
from services.grouping.domain.checks import CodeTables
from services.grouping.domain.engine import group_case

from .builders import case, pack

CODES = CodeTables(frozenset({"I21.001", "O80.000", "N40.x00", "P07.100"}), frozenset({"36.0600"}))
SCHEME = pack({"always": True})


def status(**kw: Any) -> GroupStatus:
    return group_case(SCHEME, case(**kw), codes=CODES).status


@pytest.mark.parametrize(("fields", "expected"), [
    ({"dx": ()}, GroupStatus.NO_DIAGNOSIS),
    ({"dx": ("I21.001",), "sex": None}, GroupStatus.INVALID_SEX),
    ({"dx": ("I21.001",), "sex": 3}, GroupStatus.INVALID_SEX),
    ({"dx": ("I21.001",), "age_years": None}, GroupStatus.AGE_MISSING),
    ({"dx": ("P07.100",), "age_years": 0, "age_days": None}, GroupStatus.AGE_DAYS_MISSING),
    ({"dx": ("P07.100",), "age_years": 0, "age_days": 5, "birth_weight_g": None}, GroupStatus.BIRTH_WEIGHT_MISSING),
    ({"dx": ("P07.100",), "age_years": 0, "age_days": 5, "birth_weight_g": 0}, GroupStatus.BIRTH_WEIGHT_MISSING),
    ({"dx": ("I21.99",)}, GroupStatus.UNKNOWN_DIAGNOSIS_CODE),
    ({"dx": ("I21.001",), "px": ("36.06",)}, GroupStatus.UNKNOWN_PROCEDURE_CODE),
    ({"dx": ("O80.000",), "sex": 1}, GroupStatus.SEX_DIAGNOSIS_CONFLICT),
    ({"dx": ("N40.x00",), "sex": 2}, GroupStatus.SEX_DIAGNOSIS_CONFLICT),
])
def test_failed_checks_have_their_status(fields: dict[str, Any], expected: GroupStatus) -> None:
    assert status(**fields) is expected


def test_a_failed_check_is_ungrouped_with_a_message() -> None:
    result = group_case(SCHEME, case(dx=("I21.99",)), codes=CODES)
    assert result.drg == "0000" and "I21.99" in result.message


def test_a_clean_case_is_grouped() -> None:
    assert status(dx=("I21.001",), px=("36.0600",)) is GroupStatus.GROUPED
    assert status(dx=("P07.100",), age_years=0, age_days=40, birth_weight_g=None) is GroupStatus.GROUPED


def test_a_clean_case_matching_no_rule_is_ungroupable() -> None:
    scheme = pack({"principal_dx_in": ["Z99.999"]})
    result = group_case(scheme, case(dx=("I21.001",)), codes=CODES)
    assert (result.status, result.drg, result.adrg, result.mdc) == (GroupStatus.UNGROUPABLE, "0000", "", "")
