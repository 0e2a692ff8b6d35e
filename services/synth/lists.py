"""Write a ``Discharge`` as hospitals POST it (the 4101A envelope and nodes) and as its truth line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from libs.common.money import fen_text

from .costs import SELF_PAID
from .draw import Discharge
from .region import DEPARTMENTS


def setl_id(region: str, d: Discharge) -> str:
    return f"{region}S{_ymd(d.settlement[1])}{d.serial:08d}"


def _ymd(day: Any) -> str:
    """yyyyMMdd without strftime (a tenth of the cost, and this runs several times per list)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


# Times are written with isoformat(" "): "yyyy-MM-dd HH:mm:ss" (no microseconds are ever set), several
# times faster than strftime.


def request(region: str, d: Discharge, names: Mapping[str, str], seq: int) -> dict[str, Any]:
    h = d.hospital
    sent = d.discharged + timedelta(hours=1 + d.serial % 71, seconds=d.serial % 59)
    return {
        "infno": "4101A",
        "msgid": f"{h.code}{sent.year:04d}{sent.month:02d}{sent.day:02d}{sent.hour:02d}{sent.minute:02d}"
                 f"{sent.second:02d}{seq % 10000:04d}",
        "mdtrtarea_admvs": region, "insuplc_admdvs": region, "recer_sys_code": "YBXT", "dev_no": "",
        "dev_safe_info": "", "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1",
        "opter": d.doctor, "opter_name": "病案编码员", "inf_time": sent.isoformat(" "), "fixmedins_code": h.code,
        "fixmedins_name": h.name, "sign_no": f"{region}{_ymd(sent)}{d.serial % 10**7:07d}",
        "input": {
            "setlinfo": _setlinfo(region, d), "diseinfo": _diseinfo(d, names), "oprninfo": _oprninfo(d, names),
            "icuinfo": _icuinfo(d), "bldinfo": _bldinfo(d), "opspdiseinfo": [],
            "iteminfo": [_item(f) for f in d.fees],
            "payinfo": _payinfo(d),
        },
    }


def truth(region: str, d: Discharge) -> dict[str, Any]:
    return {
        "setl_id": d.setl_id, "fixmedins_code": d.hospital.code, "psn_no": d.person.psn_no,
        "month": d.settlement[1].isoformat()[:7], "intended_drg": d.recipe.drg, "intended_adrg": d.recipe.adrg,
        "intended_mdc": d.recipe.mdc, "faults": d.faults, "behaviours": d.behaviours, "honest_drg": d.honest_drg,
        "related_setl_id": d.related_setl_id, "sex": d.person.sex, "age_years": d.age_years, "age_days": d.age_days,
        "birth_weight_g": d.birth_weight_g, "los_days": d.los_days, "discharge_way": d.discharge_way,
        "total": fen_text(d.paid_fen), "outlier": d.outlier, "hospital_level": d.hospital.level,
    }


def _setlinfo(region: str, d: Discharge) -> dict[str, Any]:
    p = d.person
    dept = DEPARTMENTS.get(d.recipe.mdc, ("A03", "内科"))[0]
    s: dict[str, Any] = {
        "psn_no": p.psn_no, "mdtrt_id": f"{region}M{_ymd(d.admitted)}{d.serial:08d}", "setl_id": d.setl_id,
        "hi_no": p.psn_no, "psn_name": p.name, "gend": str(p.sex), "brdy": p.birth.isoformat(), "age": d.age_years,
        "insutype": p.insutype, "medcasno": f"{d.settlement[1].year}{d.serial:08d}", "adm_way": "2", "trt_type": "1",
        "adm_time": d.admitted.isoformat(" "), "adm_caty": dept, "dscg_time": d.discharged.isoformat(" "),
        "dscg_caty": dept, "act_ipt_days": d.los_days, "dscg_way": d.discharge_way, "chfpdr_code": d.doctor,
        "vent_used_dura": "0/0/0", "setl_begn_date": d.settlement[0].isoformat(),
        "setl_end_date": d.settlement[1].isoformat(), "hi_paymtd": "4", "medins_fill_dept": "病案科",
        "medins_fill_psn": "病案编码员", "diag_code_cnt": len(d.diagnoses), "oprn_oprt_code_cnt": len(d.procedures),
        "medfee_sumamt": fen_text(d.paid_fen), "acct_pay": fen_text(d.payment.account),
        "psn_cashpay": fen_text(d.payment.cash),
        "psn_ownpay": fen_text(sum(f[SELF_PAID] for f in d.fees)),
    }
    if d.age_days is not None:
        s["nwb_age"] = d.age_days
    if d.birth_weight_g is not None and not d.weight_left_out:
        s["nwbbirwt" if d.alt_dialect else "nwb_bir_wt"] = d.birth_weight_g
        s["nwb_admtype" if d.alt_dialect else "nwb_adm_type"] = "1"
    if d.receiver is not None:
        s["acp_medins_name"], s["acp_optins_code"] = d.receiver[1], d.receiver[0]
    return s


def _diseinfo(d: Discharge, names: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"diag_type": "1", "diag_code": code, "diag_name": names.get(code, ""),
             "maindiag_flag": "1" if i == 0 else "0", "adm_cond_type": "1" if i < 2 else "3"}
            for i, code in enumerate(d.diagnoses)]


def _oprninfo(d: Discharge, names: Mapping[str, str]) -> list[dict[str, str]]:
    out = []
    start = d.admitted + timedelta(hours=6)
    doctors = d.hospital.doctors
    for i, code in enumerate(d.procedures):
        begin = start + timedelta(minutes=90 * i)
        out.append({"oprn_oprt_type": "1" if i == 0 else "2", "oprn_oprt_code": code,
                    "oprn_oprt_name": names.get(code, ""), "anst_way": "2", "oper_dr_code": d.doctor,
                    "anst_dr_code": doctors[(d.serial + 1) % len(doctors)],
                    "oprn_oprt_begntime": begin.isoformat(" "),
                    "oprn_oprt_endtime": (begin + timedelta(minutes=75)).isoformat(" ")})
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
    employee = d.person.insutype == "310"
    fund = d.payment.fund
    if d.paid_fen > 10_000_000:  # above 100,000 yuan the serious-illness fund takes a tenth
        serious = fund // 10
        return [{"fund_pay_type": "310100" if employee else "390100", "fund_payamt": fen_text(fund - serious)},
                {"fund_pay_type": "330100" if employee else "390200", "fund_payamt": fen_text(serious)}]
    return [{"fund_pay_type": "310100" if employee else "390100", "fund_payamt": fen_text(fund)}]
