"""proto <-> domain for grouping."""

from __future__ import annotations

from medpay.grouping.v1 import grouping_service_pb2 as pb

from ..domain.case import Case, GroupResult, GroupStatus

STATUS_TO_PROTO = {s: getattr(pb, f"GROUP_STATUS_{s.value}") for s in GroupStatus}


def case_from_proto(m: pb.GroupingCase) -> Case:
    return Case(
        dx=tuple(m.diagnoses), px=tuple(m.procedures), sex=m.sex or None,
        age_years=m.age_years if m.HasField("age_years") else None,
        age_days=m.age_days if m.HasField("age_days") else None,
        birth_weight_g=m.birth_weight_g if m.HasField("birth_weight_g") else None,
        los_days=m.los_days if m.HasField("los_days") else None,
        discharge_type=m.discharge_type or None, dept=m.dept)


def case_to_proto(case: Case, case_id: str = "") -> pb.GroupingCase:
    m = pb.GroupingCase(case_id=case_id, sex=case.sex or 0, discharge_type=case.discharge_type or "",
                        dept=case.dept, diagnoses=case.dx, procedures=case.px)
    for name in ("age_years", "age_days", "birth_weight_g", "los_days"):
        value = getattr(case, name)
        if value is not None:
            setattr(m, name, value)
    return m


def result_to_proto(r: GroupResult, case_id: str) -> pb.GroupingResult:
    return pb.GroupingResult(case_id=case_id, status=STATUS_TO_PROTO[r.status], drg=r.drg, adrg=r.adrg, mdc=r.mdc,
                             scheme_id=r.scheme_id, scheme_version=r.scheme_version, message=r.message,
                             trace=r.trace)
