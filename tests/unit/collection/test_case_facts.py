"""The grouping input collection builds from a list: the department reaches the grouper as the schemes name it."""

from __future__ import annotations

import pytest

from services.collection.adapters.clients import to_grouping_case
from services.collection.domain.case_facts import case_facts, grouping_dept


@pytest.mark.parametrize(("dscg_caty", "dept"), [
    ("A28", "ICU"), ("A28.01", "ICU"), ("a28", "ICU"), ("ICU", "ICU"), (" A28 ", "ICU"),
    ("A03.04", "A03.04"), ("A02", "A02"), ("A281", "A281"), ("", ""),
])
def test_intensive_care_is_icu_for_the_grouper(dscg_caty: str, dept: str) -> None:
    assert grouping_dept(dscg_caty) == dept


def test_the_grouping_case_carries_the_department() -> None:
    body = {"setlinfo": {"gend": "1", "age": "70", "adm_time": "2026-01-03 10:00:00",
                         "dscg_time": "2026-01-12 09:00:00", "dscg_way": "1", "dscg_caty": "A28.02"},
            "diseinfo": [{"diag_code": "I10.x05", "maindiag_flag": "0"},
                         {"diag_code": "I50.900", "maindiag_flag": "1"}],
            "oprninfo": []}
    case = to_grouping_case(case_facts(body), "c1")
    assert case.dept == "ICU" and list(case.diagnoses) == ["I50.900", "I10.x05"] and case.los_days == 9
