"""Lookups a bulk import makes once per list, remembered by their key, answer as the lookups themselves:
the sex of a diagnosis (``qc.sex_specific_diagnoses``), the grouping department (``clients.to_grouping_case``),
and the accepted output built without its ``Accepted``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb

from libs.common.icd10 import sex_conflict, sex_specific
from services.collection.adapters.clients import grouping_case, to_grouping_case
from services.collection.domain.case_facts import CaseFacts, grouping_dept
from services.collection.domain.model import Finding, GroupRow, ListStatus, Severity, error
from services.collection.domain.qc import sex_specific_diagnoses
from services.collection.service_layer.uploads import Accepted, accepted_output, output_of_accepted

_CODES = st.one_of(st.sampled_from(["O80.001", "N40.x00", "C61.x00", "D25.900", "Z33.x00", "I25.102", "n41.0", "",
                                    "O9", "c56"]), st.text(alphabet="ONCDZIab0123456789.x ", max_size=8))


def _reference(sex: Any, diseinfo: list[dict[str, Any]]) -> list[Finding]:
    """The rule as it read ``sex_specific`` for every diagnosis."""
    found = []
    if sex in (1, 2):
        for i, d in enumerate(diseinfo):
            code = str(d.get("diag_code", ""))
            only = sex_specific(code)
            if only is not None and only != sex:
                zh = f"{'男' if sex == 1 else '女'}性患者不应有{'女' if sex == 1 else '男'}性专属诊断 {code}"
                found.append(error("QC-SEX-001", f"diseinfo[{i}].diag_code", zh, sex_conflict(code, sex)))
    else:
        found.append(error("QC-SEX-002", "setlinfo.gend", "性别须为 1 或 2", "gend must be 1 (male) or 2 (female)"))
    return found


@settings(max_examples=500)
@given(st.sampled_from([1, 2, 0, None]), st.lists(st.one_of(_CODES.map(lambda c: {"diag_code": c}),
                                                            st.just({})), max_size=5))
def test_the_sex_of_a_diagnosis_remembered_gives_the_same_findings(sex: Any, diseinfo: list[dict[str, Any]]) -> None:
    lst: Any = SimpleNamespace(facts=SimpleNamespace(sex=sex), body={"diseinfo": diseinfo})
    for _ in range(2):  # the second time from the table
        assert list(sex_specific_diagnoses(lst, {})) == _reference(sex, diseinfo)


@settings(max_examples=300)
@given(st.one_of(st.sampled_from(["A10", "ICU", " icu ", "A09.1", "icu.2", "", " ", "A10 "]),
                 st.text(alphabet="AIiCcUu0129. ", max_size=6)))
def test_the_department_remembered_is_the_grouping_department(dept: str) -> None:
    facts = CaseFacts(1, 40, None, None, 3, "1", dept, ("I25.102",), ())
    for _ in range(2):
        assert to_grouping_case(facts).dept == grouping_dept(dept)
    assert to_grouping_case(facts) == grouping_pb.GroupingCase(
        sex=grouping_pb.Sex.ValueType(1), discharge_type=grouping_pb.DischargeType.ValueType(1),
        dept=grouping_dept(dept), diagnoses=["I25.102"], age_years=40, los_days=3)


def test_the_output_of_an_accepted_list_is_that_of_its_accepted() -> None:
    warning = Finding("QC-ORG-002", Severity.WARNING, "x", "未登记", "not registered")
    group = GroupRow("chs-drg-1.1", "1.1", "AB11", "AB1", "A", "GROUPED")
    for warnings, grouped, status in (((), group, ListStatus.ACTIVE), ((warning,), None, ListStatus.PENDING)):
        assert output_of_accepted("id", 3, warnings, grouped, status) == accepted_output(
            Accepted("id", 3, warnings, grouped, status))


_FACTS = st.builds(CaseFacts, st.sampled_from([1, 2, 0, None, 9]), st.one_of(st.none(), st.integers(0, 120)),
                   st.one_of(st.none(), st.integers(0, 365)), st.one_of(st.none(), st.integers(0, 6000)),
                   st.one_of(st.none(), st.integers(0, 400)), st.sampled_from(["1", "5", "9", "0", "", "x", "12"]),
                   st.sampled_from(["A10", "ICU", " icu.1", ""]), st.lists(_CODES, max_size=3).map(tuple),
                   st.lists(_CODES, max_size=2).map(tuple))


@settings(max_examples=300)
@given(st.lists(_FACTS, max_size=6))
def test_cases_built_in_the_request_are_the_cases_built_apart(cases: list[CaseFacts]) -> None:
    request = grouping_pb.GroupCasesRequest(scheme="schemes/chs-drg-1.1")
    for f in cases:
        grouping_case(request.cases.add, f)
    apart = grouping_pb.GroupCasesRequest(scheme="schemes/chs-drg-1.1", cases=[to_grouping_case(f) for f in cases])
    assert request == apart and request.SerializeToString() == apart.SerializeToString()
