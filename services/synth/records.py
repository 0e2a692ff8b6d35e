"""Settlement records as the core insurance system sends them to the platform (2304 results and 2305 reversals).

The shape is pinned in TEAM.md: ``{"infno": "2304", "fixmedins_code", "fixmedins_name", "setlinfo": {every field
of ../shared/spec/output_2304_setlinfo_fields.csv}, "setldetail": [{every field of
output_2304_setldetail_fields.csv}, ...]}``; money as decimal strings with two places, ``age`` a number string,
``setl_time`` "yyyy-MM-dd HH:mm:ss". A reversal is ``{"infno": "2305", "fixmedins_code", "setlinfo": {"setl_id",
"psn_no", "mdtrt_id"}}``. A later 2304 with the same (``fixmedins_code``, ``setl_id``) revises the record.
"""

from __future__ import annotations

from typing import Any

from libs.common.money import fen_text

from .draw import Discharge, RecordEvent
from .payment import fund_parts
from .people import age_years

# 人员类别 (psn_type) as the prefecture's core system codes it: employees in service / retired, residents.
_PSN_TYPE = {("310", False): "1101", ("310", True): "1102", ("390", False): "1501", ("390", True): "1501"}
_CERT_KINDS = ("03", "03", "01", "02")  # 就诊凭证: social security card, e-voucher (医保电子凭证), ID card
_ZERO = fen_text(0)


def record_line(d: Discharge, event: RecordEvent) -> dict[str, Any]:
    h = d.hospital
    if event.infno == "2305":
        return {"infno": "2305", "fixmedins_code": h.code,
                "setlinfo": {"setl_id": event.setl_id, "psn_no": d.person.psn_no, "mdtrt_id": d.mdtrt_id}}
    s, p = event.paid, event.person
    years = age_years(p.birth, d.period[0])
    at = event.at
    detail = []
    for code, name, amount in fund_parts(s, d.insutype):
        pooled = code in ("310100", "390100")
        detail.append({
            "fund_pay_type": code, "inscp_scp_amt": fen_text(s.in_scope),
            "crt_payb_lmt_amt": fen_text(s.in_scope - s.preselfpay - s.deductible) if pooled else fen_text(amount),
            "fund_payamt": fen_text(amount), "fund_pay_type_name": name,
            "setl_proc_info": f"起付线{fen_text(s.deductible)}元，支付比例{s.ratio // 10}%" if pooled else ""})
    return {
        "infno": "2304", "fixmedins_code": h.code, "fixmedins_name": h.name,
        "setlinfo": {
            "mdtrt_id": d.mdtrt_id, "setl_id": event.setl_id, "psn_no": p.psn_no, "psn_name": p.name,
            "psn_cert_type": "01", "certno": p.certno, "gend": str(p.sex), "naty": "01", "brdy": p.birth.isoformat(),
            "age": str(years), "insutype": d.insutype, "psn_type": _PSN_TYPE[(d.insutype, years >= 60)],
            "cvlserv_flag": "1" if p.civil_servant else "0", "setl_time": at.isoformat(" "),
            "mdtrt_cert_type": _CERT_KINDS[p.trait % 4], "med_type": "21", "medfee_sumamt": fen_text(s.total),
            "fulamt_ownpay_amt": fen_text(s.ownpay), "overlmt_selfpay": fen_text(s.over_limit),
            "preselfpay_amt": fen_text(s.preselfpay), "inscp_scp_amt": fen_text(s.in_scope),
            "act_pay_dedc": fen_text(s.deductible), "hifp_pay": fen_text(s.pooled),
            "pool_prop_selfpay": f"{s.ratio // 1000}.{s.ratio % 1000:03d}0", "cvlserv_pay": fen_text(s.civil),
            "hifes_pay": _ZERO,
            "hifmi_pay": fen_text(s.serious), "hifob_pay": fen_text(s.large), "maf_pay": fen_text(s.aid),
            "hosp_part_amt": _ZERO, "oth_pay": _ZERO, "fund_pay_sumamt": fen_text(s.fund),
            "psn_part_amt": fen_text(s.personal), "acct_pay": fen_text(s.account), "psn_cash_pay": fen_text(s.cash),
            "balc": fen_text(s.balance), "acct_mulaid_pay": _ZERO,
            "medins_setl_id": f"{h.code}{at.year:04d}{at.month:02d}{at.day:02d}{at.hour:02d}{at.minute:02d}"
                              f"{at.second:02d}{d.serial % 10000:04d}",
            "clr_optins": h.county, "clr_way": "1", "clr_type": "21",
        },
        "setldetail": detail,
    }
