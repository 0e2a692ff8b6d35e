"""Write a ``Discharge`` as hospitals POST it (the 4101A envelope and nodes) and as its truth line.

Two forms. **HIS form** (the default): what hospital information systems send: exactly the 4101A node set of
``../shared/spec/input_4101A_*`` with every property present, unset ones as ``null`` or ``""`` (by hospital),
numbers as strings, no patient demographics and no ``iteminfo``/``payinfo`` (those come with the settlement
record from the core system). **Rich form** (``rich_lists``): the older form some provinces use, with the 4101
patient fields, ``iteminfo`` by fee category and ``payinfo`` by fund.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from libs.common.money import fen_text

from .costs import SELF_PAID
from .draw import Discharge
from .payment import fund_parts
from .region import GIVEN_NAMES, SURNAMES

# The provincial spellings some hospital systems use (``alt_name_seen_elsewhere`` of the field list).
ALIASES = {"nwb_adm_type": "nwb_admtype", "nwb_bir_wt": "nwbbirwt", "nwb_adm_wt": "nwbadmwt",
           "otp_tcm_dise": "otptcmdise", "tcm_dise_code": "tcmdisecode", "lv3_nurscare_days": "lv3_nursecare_days",
           "acp_optins_code": "acp_medins_code"}
# Occupation codes (GB/T 2261.4) by kind of person.
_EMPLOYEE_JOBS = ("13", "17", "21", "24", "24", "17")
_RESIDENT_JOBS = ("27", "27", "54", "51", "70", "90")
_STREETS = ("人民路", "解放路", "中山路", "建设路", "新华街", "文化路", "胜利街", "城北路", "江滨路", "学府路")


def _ymd(day: Any) -> str:
    """yyyyMMdd without strftime (a tenth of the cost, and this runs several times per list)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


# Times are written with isoformat(" "): "yyyy-MM-dd HH:mm:ss" (no microseconds are ever set), several
# times faster than strftime.


def request(region: str, d: Discharge, names: Mapping[str, str], seq: int, *, rich: bool) -> dict[str, Any]:
    h = d.hospital
    sent = d.sent_at or d.discharged
    if rich:
        body = {"setlinfo": _rich_setlinfo(d), "diseinfo": _diseinfo(d, names),
                "oprninfo": _oprninfo(d, names, his=False), "icuinfo": _icuinfo(d), "bldinfo": _bldinfo(d),
                "opspdiseinfo": [], "iteminfo": [_item(f) for f in d.fees], "payinfo": _payinfo(d)}
    else:
        body = {"setlinfo": _his_setlinfo(region, d, names, sent), "diseinfo": _diseinfo(d, names),
                "oprninfo": _oprninfo(d, names, his=True), "icuinfo": _icuinfo(d), "bldinfo": _bldinfo(d),
                "opspdiseinfo": []}
    return {
        "infno": "4101A",
        "msgid": f"{h.code}{sent.year:04d}{sent.month:02d}{sent.day:02d}{sent.hour:02d}{sent.minute:02d}"
                 f"{sent.second:02d}{seq % 10000:04d}",
        "mdtrtarea_admvs": region, "insuplc_admdvs": region, "recer_sys_code": "YBXT", "dev_no": "",
        "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1",
        "opter": d.doctor, "opter_name": "病案编码员", "inf_time": sent.isoformat(" "), "fixmedins_code": h.code,
        "fixmedins_name": h.name, "sign_no": f"{region}{_ymd(sent)}{d.serial % 10**7:07d}",
        "input": body,
    }


def truth(d: Discharge) -> dict[str, Any]:
    return {
        "setl_id": d.setl_id, "fixmedins_code": d.hospital.code, "psn_no": d.person.psn_no,
        "month": d.period[1].isoformat()[:7], "intended_drg": d.recipe.drg, "intended_adrg": d.recipe.adrg,
        "intended_mdc": d.recipe.mdc, "faults": d.faults, "behaviours": d.behaviours, "honest_drg": d.honest_drg,
        "related_setl_id": d.related_setl_id, "split_role": d.split_role,
        "sex": d.person.sex, "age_years": d.age_years, "age_days": d.age_days,
        "birth_weight_g": d.birth_weight_g, "los_days": d.los_days, "discharge_way": d.discharge_way,
        "total": fen_text(d.paid.total), "fund": fen_text(d.paid.fund), "insutype": d.insutype,
        "outlier": d.outlier, "hospital_level": d.hospital.level, "hospital_kind": d.hospital.kind,
        "department": d.department, "doctor": d.doctor,
        "record_story": d.story, "reversed_setl_ids": [r.setl_id for r in d.records if r.infno == "2305"],
    }


def _his_setlinfo(region: str, d: Discharge, names: Mapping[str, str], sent: datetime) -> dict[str, Any]:
    """Every 4101A setlinfo property, in the field list's order, numbers as strings, unset ones ``unset``."""
    h, p, u, style = d.hospital, d.person, d.style.unset, d.style
    trait = p.trait
    address = f"{h.county_name}{_STREETS[trait % 10]}{trait // 10 % 300 + 1}号"
    weight = d.birth_weight_g if not d.weight_left_out else None
    newborn = d.birth_weight_g is not None
    spga, lv1, scd = _nursing_days(d)
    begin, end = d.period[0].isoformat(), d.period[1].isoformat()
    if style.datetime_dates:
        begin, end = begin + " 00:00:00", end + " 00:00:00"
    dx0 = d.diagnoses[0]
    s: dict[str, Any] = {
        "psn_no": p.psn_no, "mdtrt_id": d.mdtrt_id, "setl_id": d.setl_id, "hi_no": p.psn_no,
        "medcasno": f"{d.period[1].year}{d.serial:08d}", "dcla_time": sent.isoformat(" "), "ntly": "CHN",
        "prfs": _occupation(d), "curr_addr": address, "emp_name": u, "emp_addr": u, "emp_tel": u, "poscode": u,
        "coner_name": _contact_name(p.name, d.age_years, trait), "patn_rlts": _relation(d.age_years, trait),
        "coner_addr": address,
        "coner_tel": f"1{3 + trait % 7}{trait // 7 % 10**9:09d}",
        "nwb_adm_type": ("1" if (weight or 2500) >= 2500 else "2") if newborn and weight else u,
        "nwb_bir_wt": str(weight) if newborn and weight else u,
        "nwb_adm_wt": str(_admission_weight(weight, d.age_days or 0)) if newborn and weight else u,
        "mul_nwb_bir_wt": u, "mul_nwb_adm_wt": u, "opsp_diag_caty": u, "opsp_mdtrt_date": u,
        "adm_way": "1" if d.emergency else "2", "trt_type": "3" if h.kind == "tcm" else "1",
        "adm_time": d.admitted.isoformat(" "), "refldept_dept": u, "dscg_time": d.discharged.isoformat(" "),
        "dscg_caty": _department(d), "otp_wm_dise": names.get(dx0, u), "wm_dise_code": dx0,
        "otp_tcm_dise": u, "tcm_dise_code": u, "vent_used_dura": "0/0/0", "pwcry_bfadm_coma_dura": u,
        "pwcry_afadm_coma_dura": u, "spga_nurscare_days": str(spga), "lv1_nurscare_days": str(lv1),
        "scd_nurscare_days": str(scd), "lv3_nurscare_days": "0", "dscg_way": d.discharge_way,
        "acp_medins_name": d.receiver[1] if d.receiver else u, "acp_optins_code": d.receiver[0] if d.receiver else u,
        "bill_code": f"{region[:4]}{d.period[1].year % 100:02d}01", "bill_no": f"{d.serial * 7919 % 10**10:010d}",
        "biz_sn": f"{h.code[1:]}{_ymd(d.period[1])}{d.serial % 10**6:06d}", "days_rinp_flag_31": "1",
        "days_rinp_pup_31": u, "chfpdr_code": d.doctor, "setl_begn_date": begin, "setl_end_date": end,
        "medins_fill_dept": "病案科", "medins_fill_psn": "病案编码员",
        "resp_nurs_code": f"N{h.county}{(int(h.code[-5:]) * 37 + d.serial % 40) % 10**6:06d}", "stas_type": u,
        "hi_paymtd": "4",
    }
    if style.alias:
        return {ALIASES.get(k, k): v for k, v in s.items()}
    return s


def _rich_setlinfo(d: Discharge) -> dict[str, Any]:
    p = d.person
    dept = _department(d)
    s: dict[str, Any] = {
        "psn_no": p.psn_no, "mdtrt_id": d.mdtrt_id, "setl_id": d.setl_id,
        "hi_no": p.psn_no, "psn_name": p.name, "gend": str(p.sex), "brdy": p.birth.isoformat(), "age": d.age_years,
        "insutype": d.insutype, "medcasno": f"{d.period[1].year}{d.serial:08d}", "adm_way": "2",
        "trt_type": "1", "adm_time": d.admitted.isoformat(" "), "adm_caty": dept,
        "dscg_time": d.discharged.isoformat(" "), "dscg_caty": dept, "act_ipt_days": d.los_days,
        "dscg_way": d.discharge_way, "chfpdr_code": d.doctor, "vent_used_dura": "0/0/0",
        "setl_begn_date": d.period[0].isoformat(), "setl_end_date": d.period[1].isoformat(), "hi_paymtd": "4",
        "medins_fill_dept": "病案科", "medins_fill_psn": "病案编码员", "diag_code_cnt": len(d.diagnoses),
        "oprn_oprt_code_cnt": len(d.procedures), "medfee_sumamt": fen_text(d.paid.total),
        "acct_pay": fen_text(d.paid.account), "psn_cashpay": fen_text(d.paid.cash),
        "psn_ownpay": fen_text(sum(f[SELF_PAID] for f in d.fees)),
    }
    if d.age_days is not None:
        s["nwb_age"] = d.age_days
    if d.birth_weight_g is not None and not d.weight_left_out:
        s["nwbbirwt" if d.style.alias else "nwb_bir_wt"] = d.birth_weight_g
        s["nwb_admtype" if d.style.alias else "nwb_adm_type"] = "1"
    if d.receiver is not None:
        s["acp_medins_name"], s["acp_optins_code"] = d.receiver[1], d.receiver[0]
    return s


def _admission_weight(birth_weight: int, days: int) -> int:
    """Newborns lose about 1% of their weight a day over the first five days; grams to the 10."""
    return (birth_weight - birth_weight * min(days, 5) // 100) // 10 * 10


def _department(d: Discharge) -> str:
    return d.department


def _occupation(d: Discharge) -> str:
    years, p = d.age_years, d.person
    if years < 18:
        return "31" if years >= 6 else "90"
    if d.insutype == "310":
        if years >= 60:
            return "80"
        return "11" if p.civil_servant else _EMPLOYEE_JOBS[p.trait % 6]
    return _RESIDENT_JOBS[p.trait % 6]


def _relation(years: int, trait: int) -> str:
    """patn_rlts as the medical-record front page codes it: 1 spouse, 2 son, 3 daughter, 5 parent."""
    if years < 18:
        return "5"
    if years >= 70:
        return "2" if trait % 2 else "3"
    return "1"


def _contact_name(name: str, years: int, trait: int) -> str:
    """A parent or child shares the patient's surname; a spouse has their own."""
    surname = name[0] if years < 18 or years >= 70 else SURNAMES[trait // 13 % len(SURNAMES)]
    return surname + GIVEN_NAMES[trait // 17 % len(GIVEN_NAMES)] + GIVEN_NAMES[trait // 19 % len(GIVEN_NAMES)]


def _nursing_days(d: Discharge) -> tuple[int, int, int]:
    """(special, first-level, second-level) nursing days adding up to the stay: sicker cases more intensive."""
    los = d.los_days
    special = min(los, 1 + d.serial % 3) if d.icu else 0
    first = (los - special) // 2 if d.recipe.severity in "13" else min(1, los - special)
    return special, first, los - special - first


def _diseinfo(d: Discharge, names: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"diag_type": "1", "diag_code": code, "diag_name": names.get(code, ""),
             "adm_cond_type": "1" if i < 2 else "3", "maindiag_flag": "1" if i == 0 else "0"}
            for i, code in enumerate(d.diagnoses)]


def _oprninfo(d: Discharge, names: Mapping[str, str], *, his: bool) -> list[dict[str, Any]]:
    """Procedures, principal first; the HIS form also carries the anaesthesia times."""
    out: list[dict[str, Any]] = []
    start = d.admitted + timedelta(hours=6)
    doctors = d.hospital.doctors
    for i, code in enumerate(d.procedures):
        begin = start + timedelta(minutes=90 * i)
        row: dict[str, Any] = {
            "oprn_oprt_type": "1" if i == 0 else "2", "oprn_oprt_name": names.get(code, ""), "oprn_oprt_code": code,
            "anst_way": "2", "oper_dr_code": d.doctor, "anst_dr_code": doctors[(d.serial + 1) % len(doctors)],
            "oprn_oprt_begntime": begin.isoformat(" "),
            "oprn_oprt_endtime": (begin + timedelta(minutes=75)).isoformat(" ")}
        if his:
            row["anst_begntime"] = (begin - timedelta(minutes=15)).isoformat(" ")
            row["anst_endtime"] = (begin + timedelta(minutes=80)).isoformat(" ")
        out.append(row)
    return out


def _icuinfo(d: Discharge) -> list[dict[str, str]]:
    if not d.icu:
        return []
    hours = max(12, min(d.los_days * 24 - 12, 24 * (1 + d.serial % 5)))
    enter = d.admitted + timedelta(hours=2)
    return [{"scs_cutd_ward_type": "1", "scs_cutd_inpool_time": enter.isoformat(" "),
             "scs_cutd_exit_time": (enter + timedelta(hours=hours)).isoformat(" "),
             "scs_cutd_sum_dura": f"{hours // 24}/{hours % 24}/0"}]


def _bldinfo(d: Discharge) -> list[dict[str, str]]:
    return [{"bld_cat": "1", "bld_amt": "400", "bld_unt": "ml"}] if d.transfusion else []


_CATEGORY = [f"{i:02d}" for i in range(15)]
_ZERO = "0.00"


def _item(f: Any) -> dict[str, str]:
    category, amount, class_a, class_b, self_paid, other = f
    text = fen_text(amount)
    if class_a == amount:  # most categories: all class A, the common case made cheap
        return {"med_chrgitm": _CATEGORY[category], "amt": text, "claa_sumfee": text, "clab_amt": _ZERO,
                "fulamt_ownpay_amt": _ZERO, "oth_amt": _ZERO}
    return {"med_chrgitm": _CATEGORY[category], "amt": text, "claa_sumfee": fen_text(class_a),
            "clab_amt": fen_text(class_b), "fulamt_ownpay_amt": fen_text(self_paid),
            "oth_amt": fen_text(other) if other else _ZERO}


def _payinfo(d: Discharge) -> list[dict[str, str]]:
    """The funds that paid, as the settlement record's setldetail has them."""
    return [{"fund_pay_type": code, "fund_payamt": fen_text(amount)}
            for code, _, amount in fund_parts(d.paid, d.insutype)]
