"""The national field sets the hospitals' door reads: each field's kind and limits.

Written from the national interface specification (4101A settlement list, the older 4101 fields some provinces
still send, and the sub-nodes): lengths are the specification's, in characters. The HIS-form normaliser
(``dialects``) uses the kinds to turn what hospital systems send into one internal form; the input limits
(``limits``) use them to refuse what no real list can hold.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Kind(enum.Enum):
    ID = "identifier"       # identifiers and codes: no whitespace inside, no control characters
    TEXT = "text"           # free text: tabs and line breaks allowed, no other control characters
    INT = "integer"         # a count or a number of days: a non-negative integer below 10**digits
    AGE = "age"             # age in years, number(4,1): read as completed years
    GRAMS = "grams"         # a newborn weight in grams, number(6,2): read to the gram
    MONEY = "money"         # yuan, number(16,2): a decimal string with two places
    DATE = "date"           # yyyy-MM-dd
    DATETIME = "datetime"   # yyyy-MM-dd HH:mm:ss

    __hash__ = object.__hash__  # members are singletons: identity hashing, at C speed on the upload path


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind
    size: int = 0
    """Most characters (ID, TEXT) or most integer digits (INT); 0 where the kind fixes it."""
    stay: bool = False
    """A date or time of the stay itself: it must lie in the plausible window (see ``limits``)."""
    span: tuple[int, int] | None = None
    """The range of a number (INT, AGE, GRAMS): by default what its digits hold."""

    def range(self) -> tuple[int, int]:
        if self.span is not None:
            return self.span
        return {Kind.AGE: (0, 150), Kind.GRAMS: (100, 9999)}.get(self.kind, (0, 10**self.size - 1))


def _id(n: int) -> Field:
    return Field(Kind.ID, n)


def _text(n: int) -> Field:
    return Field(Kind.TEXT, n)


def _int(digits: int) -> Field:
    return Field(Kind.INT, digits)


_MONEY = Field(Kind.MONEY)
_STAY_TIME = Field(Kind.DATETIME, stay=True)
_STAY_DATE = Field(Kind.DATE, stay=True)

SETLINFO: Mapping[str, Field] = {
    # the 4101A node set
    "psn_no": _id(30), "mdtrt_id": _id(30), "setl_id": _id(30), "hi_no": _id(30), "medcasno": _id(40),
    "dcla_time": Field(Kind.DATETIME), "ntly": _id(6), "prfs": _id(6), "curr_addr": _text(200),
    "emp_name": _text(200), "emp_addr": _text(200), "emp_tel": _id(50), "poscode": _id(6), "coner_name": _text(50),
    "patn_rlts": _id(6), "coner_addr": _text(200), "coner_tel": _id(50), "nwb_adm_type": _id(3),
    "nwb_bir_wt": Field(Kind.GRAMS), "nwb_adm_wt": Field(Kind.GRAMS), "mul_nwb_bir_wt": _text(100),
    "mul_nwb_adm_wt": _text(100), "opsp_diag_caty": _text(50), "opsp_mdtrt_date": Field(Kind.DATE),
    "adm_way": _id(3), "trt_type": _id(3), "adm_time": _STAY_TIME, "refldept_dept": _text(100),
    "dscg_time": _STAY_TIME, "dscg_caty": _id(6), "otp_wm_dise": _text(200), "wm_dise_code": _id(20),
    "otp_tcm_dise": _text(200), "tcm_dise_code": _id(20), "vent_used_dura": _id(10),
    "pwcry_bfadm_coma_dura": _id(10), "pwcry_afadm_coma_dura": _id(10), "spga_nurscare_days": _int(4),
    "lv1_nurscare_days": _int(4), "scd_nurscare_days": _int(4), "lv3_nurscare_days": _int(4), "dscg_way": _id(3),
    "acp_medins_name": _text(100), "acp_optins_code": _id(30), "bill_code": _id(50), "bill_no": _id(30),
    "biz_sn": _id(50), "days_rinp_flag_31": _id(3), "days_rinp_pup_31": _text(200), "chfpdr_code": _id(30),
    "setl_begn_date": _STAY_DATE, "setl_end_date": _STAY_DATE, "medins_fill_dept": _text(100),
    "medins_fill_psn": _text(50), "resp_nurs_code": _id(30), "stas_type": _id(3), "hi_paymtd": _id(3),
    # the older 4101 fields (patient, totals) that some provinces still send with the list
    "fixmedins_name": _text(200), "fixmedins_code": _id(12), "hi_setl_lv": _id(3), "psn_name": _text(50),
    "gend": _id(6), "brdy": Field(Kind.DATE), "age": Field(Kind.AGE), "nwb_age": Field(Kind.INT, 3, span=(0, 365)),
    "naty": _id(3),
    "patn_cert_type": _id(3), "certno": _id(50), "insutype": _id(6), "insuplc": _id(6), "sp_psn_type": _id(6),
    "ipt_med_type": _id(3), "adm_caty": _id(6), "act_ipt_days": _int(4), "diag_code_cnt": _int(3),
    "maindiag_flag": _id(3), "oprn_oprt_code_cnt": _int(3), "bld_cat": _id(3), "bld_amt": _int(6),
    "bld_unt": _id(3), "chfpdr_name": _text(50), "psn_selfpay": _MONEY, "psn_ownpay": _MONEY, "acct_pay": _MONEY,
    "psn_cashpay": _MONEY, "medfee_sumamt": _MONEY, "hsorg": _text(100), "hsorg_opter": _text(50),
}
"""setlinfo. Day counts get 4 digits (the specification's 3 cannot hold a stay of 1,000 days or more; the
length-of-stay limit decides instead)."""

NODES: Mapping[str, Mapping[str, Field]] = {
    "diseinfo": {"diag_type": _id(3), "diag_code": _id(20), "diag_name": _text(100), "adm_cond_type": _id(3),
                 "maindiag_flag": _id(3)},
    "oprninfo": {"oprn_oprt_type": _id(3), "oprn_oprt_name": _text(500), "oprn_oprt_code": _id(30),
                 "oprn_oprt_date": _STAY_DATE, "anst_way": _id(6), "oper_dr_name": _text(50), "oper_dr_code": _id(30),
                 "anst_dr_name": _text(50), "anst_dr_code": _id(30), "oprn_oprt_begntime": _STAY_TIME,
                 "oprn_oprt_endtime": _STAY_TIME, "anst_begntime": _STAY_TIME, "anst_endtime": _STAY_TIME},
    "icuinfo": {"scs_cutd_ward_type": _id(6), "scs_cutd_inpool_time": _STAY_TIME,
                "scs_cutd_exit_time": _STAY_TIME, "scs_cutd_sum_dura": _id(10)},
    "bldinfo": {"bld_cat": _id(3), "bld_amt": _int(6), "bld_unt": _id(3)},
    "opspdiseinfo": {"diag_name": _text(100), "diag_code": _id(20), "oprn_oprt_name": _text(500),
                     "oprn_oprt_code": _id(30)},
    "iteminfo": {"med_chrgitm": _id(6), "amt": _MONEY, "claa_sumfee": _MONEY, "clab_amt": _MONEY,
                 "fulamt_ownpay_amt": _MONEY, "oth_amt": _MONEY},
    "payinfo": {"fund_pay_type": _id(6), "fund_payamt": _MONEY},
}
"""The list nodes of a settlement list and the fields of their entries."""

MAX_ENTRIES: Mapping[str, int] = {"diseinfo": 100, "oprninfo": 100, "icuinfo": 50, "bldinfo": 50,
                                  "opspdiseinfo": 50, "iteminfo": 50, "payinfo": 50}
"""Most entries per node: well above any real stay (the national list prints 40-odd diagnoses at most)."""

ENVELOPE: Mapping[str, Field] = {
    "infno": _id(6), "msgid": _id(30), "mdtrtarea_admvs": _id(6), "insuplc_admdvs": _id(6),
    "recer_sys_code": _id(10), "dev_no": _id(100), "dev_safe_info": _text(2000), "cainfo": _text(2000),
    "signtype": _id(10), "infver": _id(6), "opter_type": _id(3), "opter": _id(30), "opter_name": _text(50),
    "inf_time": Field(Kind.DATETIME), "fixmedins_code": _id(12), "fixmedins_name": _text(200), "sign_no": _id(30),
}
"""The common envelope of every national transaction."""

OTHER_TEXT = 500
"""Most characters of a property the national field sets do not name (provinces add their own)."""
MAX_PROPERTIES = 300
"""Most properties of one object (setlinfo has about 110 across 4101 and 4101A)."""
MAX_DEPTH = 16
"""Deepest JSON nesting accepted anywhere (a national request is four levels deep)."""
MAX_KEY = 64
"""Longest property name."""
