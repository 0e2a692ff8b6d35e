"""The national 3101 (明细审核事前事中分析) and 3102 (事中分析, at settlement) in the hospitals' door: a stay as
hospital systems describe it (``patient_dtos[].fsi_encounter_dtos[]`` with diagnoses, orders and operations) is
checked by the smart-review service, and the answer is CONTRACT.md's ``output.result[]``.

Each encounter named by ``curr_mdtrt_id`` (every encounter when it is empty) is checked; ``rule_ids`` keeps only
those rules' findings. An encounter's ``medins_id`` must be the calling institution (empty means it): the door
asks review with its own credentials, and a stay names the hospital whose earlier stays of the person review
reads (split admissions). 3101 runs the rules of the stage "before" (reminders while orders are placed), or "during"
when ``trig_scen`` is a settlement scene (6-9); 3102 always runs "during".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2
from medpay.common.v1 import common_pb2
from medpay.review.v1 import review_service_pb2 as pb

from libs.common.money import fen_text, wire_fen
from libs.national.fees import fee_instant, normal_time

from ..adapters.review_client import ReviewClient
from ..domain.case_facts import parse_day
from ..domain.model import error
from .transactions import Call, Handler

SETTLEMENT_SCENES = frozenset({"6", "7", "8", "9"})
SEVERITY = {pb.SEVERITY_ERROR: "1", pb.SEVERITY_WARNING: "2", pb.SEVERITY_INFO: "3"}
"""sev_deg: 1 a violation (明确违规), 2 suspicious (高度可疑), 3 for information (提醒)."""
BEHAVIOUR = {value: name.removeprefix("CATEGORY_").lower() for name, value in pb.Category.items()
             if value != pb.CATEGORY_UNSPECIFIED}
"""vola_bhvr_type: the CONTRACT category the rule reports (e.g. "duplicate_charge")."""


def check_stay(review: ReviewClient, settlement: bool) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        body: Mapping[str, Any] = call.envelope.body if isinstance(call.envelope.body, Mapping) else {}
        inner = body.get("data")
        data: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
        patients = data.get("patient_dtos")
        if not isinstance(patients, list) or not patients:
            return call.fail([error("QC-REQ-001", "data.patient_dtos", "缺少 patient_dtos",
                                    "data.patient_dtos must be a non-empty array")])
        stage = pb.STAGE_DURING if settlement or str(data.get("trig_scen") or "") in SETTLEMENT_SCENES \
            else pb.STAGE_BEFORE
        wanted = {str(r) for r in (data.get("rule_ids") or []) if r} if isinstance(data.get("rule_ids"), list) \
            else set()
        results: list[dict[str, Any]] = []
        for p, patient in enumerate(patients):
            if not isinstance(patient, Mapping):
                return call.fail([error("QC-REQ-002", f"data.patient_dtos[{p}]", "患者须为对象",
                                        "every patient_dtos entry must be an object")])
            for e, encounter in enumerate(_encounters(patient)):
                stay, problem = stay_of(call.envelope.fixmedins_code, patient, encounter)
                if stay is None:
                    return call.fail([error("QC-REQ-001", f"data.patient_dtos[{p}].fsi_encounter_dtos[{e}]",
                                            f"就诊信息不完整：{problem}", problem)])
                answer = await review.check(pb.CheckStayRequest(stay=stay, stage=stage))
                results += [_result(call, stay, v, len(results) + i) for i, v in enumerate(
                    v for v in answer.violations if not wanted or v.rule_id in wanted)]
        return call.ok({"result": results})
    return handle


def _encounters(patient: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    encounters = [e for e in patient.get("fsi_encounter_dtos") or [] if isinstance(e, Mapping)]
    current = str(patient.get("curr_mdtrt_id") or "")
    chosen = [e for e in encounters if str(e.get("mdtrt_id") or "") == current] if current else encounters
    return chosen or encounters


def stay_of(hospital: str, patient: Mapping[str, Any], e: Mapping[str, Any]) -> tuple[pb.Stay | None, str]:
    """A 3101 encounter as review's stay, or why not."""
    admitted = _timestamp(e.get("adm_date"))
    if admitted is None:
        return None, "adm_date must be a date-time yyyy-MM-dd HH:mm:ss"
    named = str(e.get("medins_id") or "").strip()
    if named and named != hospital:  # the door forwards with its own credentials: the caller's stays only
        return None, f"medins_id {named} is not the calling institution {hospital}: a hospital checks its own stays"
    stay = pb.Stay(fixmedins_code=hospital, mdtrt_id=str(e.get("mdtrt_id") or ""),
                   psn_no=str(patient.get("patn_id") or ""), admission_time=admitted,
                   sex={"1": pb.SEX_MALE, "2": pb.SEX_FEMALE}.get(str(patient.get("gend") or ""), pb.SEX_UNSPECIFIED),
                   attending_doctor=str(e.get("dr_codg") or ""), department=str(e.get("dscg_dept_codg") or
                                                                                e.get("adm_dept_codg") or ""))
    if not stay.mdtrt_id:
        return None, "mdtrt_id is required"
    birth = parse_day(patient.get("brdy"))
    if birth is not None:
        stay.birth_date.CopyFrom(date_pb2.Date(year=birth.year, month=birth.month, day=birth.day))
    discharged = _timestamp(e.get("dscg_date"))
    if discharged is not None:
        stay.discharge_time.CopyFrom(discharged)
    total = wire_fen(e.get("medfee_sumamt")) if e.get("medfee_sumamt") not in (None, "") else None
    if total is not None:
        stay.total_cost.CopyFrom(common_pb2.Money(fen=total))
    stay.diagnosis_codes.extend(_diagnoses(e))
    stay.procedure_codes.extend(_principal_first(e.get("fsi_operation_dtos"), "oprn_code", "main_oprn_flag"))
    for o, order in enumerate(e.get("fsi_order_dtos") or []):
        line, problem = _line(order)
        if line is None:
            return None, f"fsi_order_dtos[{o}]: {problem}"
        stay.fee_lines.append(line)
    return stay, ""


def _diagnoses(e: Mapping[str, Any]) -> list[str]:
    codes = _principal_first(e.get("fsi_diagnose_dtos"), "dise_codg", "maindise_flag")
    main = str(e.get("dscg_main_dise_codg") or "")
    return codes if codes or not main else [main]


def _principal_first(rows: Any, code: str, flag: str) -> list[str]:
    entries = [r for r in rows or [] if isinstance(r, Mapping) and r.get(code)]
    entries.sort(key=lambda r: str(r.get(flag)) != "1")
    return [str(r[code]).strip() for r in entries]


def _line(order: Any) -> tuple[pb.FeeLine | None, str]:
    if not isinstance(order, Mapping):
        return None, "not an object"
    when = _timestamp(order.get("drord_begn_date") or order.get("fee_ocur_time"))
    amount = wire_fen(order.get("sumamt"))
    if not order.get("rx_id") or not order.get("hilist_code") or when is None or amount is None:
        return None, "rx_id, hilist_code, drord_begn_date (a date-time) and sumamt are required"
    cnt, pric = order.get("cnt"), order.get("pric")
    if cnt in (None, "") or pric in (None, ""):  # read as 0 they would make every such order an amount mismatch
        return None, f"rx_id {order['rx_id']}: cnt and pric are required (got cnt {cnt!r}, pric {pric!r})"
    category = str(order.get("chrg_type") or "")
    return pb.FeeLine(feedetl_sn=str(order["rx_id"]), med_list_codg=str(order["hilist_code"]),
                      med_chrgitm_type=category.zfill(2) if category.isdigit() and len(category) <= 2 else "",
                      fee_time=when, cnt=str(cnt), pric=str(pric), amount=common_pb2.Money(fen=amount)), ""


def _result(call: Call, stay: pb.Stay, v: pb.Violation, index: int) -> dict[str, Any]:
    jr_id = f"{call.envelope.msgid}-{index + 1:04d}"
    return {
        "jr_id": jr_id, "rule_id": v.rule_id, "rule_name": v.rule_name, "vola_cont": v.evidence,
        "patn_id": stay.psn_no, "mdtrt_id": stay.mdtrt_id, "vola_amt": fen_text(v.amount.fen),
        "vola_amt_stas": "1" if v.amount.fen else "0", "sev_deg": SEVERITY.get(v.severity, "3"),
        "vola_evid": f"{v.rule_name}（{v.rule_id} v{v.rule_version}）：{v.evidence}",
        "vola_bhvr_type": BEHAVIOUR.get(v.category, ""), "task_id": call.envelope.msgid,
        "judge_result_detail_dtos": [
            {"jrd_id": f"{jr_id}-{i + 1:03d}", "patn_id": stay.psn_no, "mdtrt_id": stay.mdtrt_id,
             "rx_id": line.feedetl_sn, "vola_item_type": "1" if line.role == pb.LINE_ROLE_VIOLATING else "2",
             "vola_amt": fen_text(line.amount.fen)} for i, line in enumerate(v.lines)]}


def _timestamp(value: Any) -> Timestamp | None:
    text = normal_time(value)
    if not text:
        return None
    ts = Timestamp()
    ts.FromDatetime(fee_instant(text))
    return ts
