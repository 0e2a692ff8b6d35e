"""proto <-> domain for grouping, and the service's resource names."""

from __future__ import annotations

from medpay.grouping.v1 import grouping_service_pb2 as pb

from libs.common.names import format_name, parse_name

from ..domain.case import Case, GroupResult, GroupStatus

STATUS_TO_PROTO = {s: getattr(pb, f"GROUP_STATUS_{s.value}") for s in GroupStatus}
SCHEME = "schemes/{scheme}"
DRG = "schemes/{scheme}/drgs/{drg}"


def scheme_name(scheme_id: str) -> str:
    """"chs-drg-1.1" -> "schemes/chs-drg-1.1"."""
    return format_name(SCHEME, scheme_id)


def scheme_id_of(name: str, field: str = "scheme") -> str:
    """"schemes/chs-drg-1.1" -> "chs-drg-1.1" (INVALID_ARGUMENT naming ``field`` otherwise)."""
    return parse_name(name, SCHEME, field)[0]


def drg_name(scheme_id: str, drg: str) -> str:
    return format_name(DRG, scheme_id, drg)


def case_from_proto(m: pb.GroupingCase) -> Case:
    return Case(
        dx=tuple(m.diagnoses), px=tuple(m.procedures), sex=int(m.sex) or None,
        age_years=m.age_years if m.HasField("age_years") else None,
        age_days=m.age_days if m.HasField("age_days") else None,
        birth_weight_g=m.birth_weight_g if m.HasField("birth_weight_g") else None,
        los_days=m.los_days if m.HasField("los_days") else None,
        discharge_type=str(int(m.discharge_type)) if m.discharge_type else None, dept=m.dept)


def discharge_type_to_proto(code: str | None) -> pb.DischargeType.ValueType:
    """The national dscg_way code ("1".."9") as the enum whose numbers are those codes; anything else is
    DISCHARGE_TYPE_UNSPECIFIED."""
    return pb.DischargeType.ValueType(int(code)) if code and code.isdigit() and len(code) == 1 else \
        pb.DISCHARGE_TYPE_UNSPECIFIED


def case_to_proto(case: Case, case_id: str = "") -> pb.GroupingCase:
    m = pb.GroupingCase(case_id=case_id, sex=pb.Sex.ValueType(case.sex or 0),
                        discharge_type=discharge_type_to_proto(case.discharge_type),
                        dept=case.dept, diagnoses=case.dx, procedures=case.px)
    for name in ("age_years", "age_days", "birth_weight_g", "los_days"):
        value = getattr(case, name)
        if value is not None:
            setattr(m, name, value)
    return m


def result_to_proto(r: GroupResult, case_id: str) -> pb.GroupingResult:
    return pb.GroupingResult(case_id=case_id, status=STATUS_TO_PROTO[r.status], drg=r.drg, adrg=r.adrg, mdc=r.mdc,
                             scheme=scheme_name(r.scheme_id), scheme_version=r.scheme_version, message=r.message,
                             trace=r.trace)
