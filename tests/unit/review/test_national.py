"""A list read for review normalises only the values review reads, and reads them as the whole list's
normalisation does: in any spelling (upper-case names, provincial aliases), blank or not."""

from __future__ import annotations

from typing import Any

import pytest

from services.collection.domain.dialects import normalise
from services.evaluation.adapters.review.national import _read_part, read_list

SETLINFO = {"fixmedins_code": "H1", "setl_id": "S1", "mdtrt_id": "M1", "psn_no": "P1", "gend": "1",
            "brdy": "1960-05-01", "age": "65", "adm_time": "2026-01-03 08:00:00", "dscg_time": "2026-01-09 10:00:00",
            "medfee_sumamt": "3200.00", "dscg_way": "1", "dscg_caty": "A03", "chfpdr_code": "D1", "insutype": "310",
            "nwb_bir_wt": "", "hi_no": "X", "ipt_days": "6", "psn_name": "张三"}
NODES = {"diseinfo": [{"diag_code": "I10.x00", "maindiag_flag": "1"}, {"diag_code": "E11.900", "maindiag_flag": "0"}],
         "oprninfo": [{"oprn_oprt_code": "", "oprn_oprt_type": "1"}],
         "iteminfo": [{"med_chrgitm": "01", "amt": "3200.00"}], "payinfo": [{"fund_pay_type": "310100"}]}


@pytest.mark.parametrize("setlinfo", [
    SETLINFO,
    {**{k.upper() if k in ("gend", "age", "dscg_time") else k: v for k, v in SETLINFO.items()}},
    {**SETLINFO, "nwbage": "12", "nwbbirwt": 3200.0, "NWB_ADM_WT": "3100"},
    {**SETLINFO, "nwb_age": "", "nwbage": "30", "nwbbirwt": "2900", "nwb_bir_wt": "3000"},
    {**SETLINFO, "adm_time": "2026-01-03T08:00:00.000+08:00", "age": 65.0, "medfee_sumamt": 3200, "gend": None,
     "Gend": "2"},
])
def test_the_part_read_normalises_as_the_whole_list(setlinfo: dict[str, Any]) -> None:
    body = {"setlinfo": setlinfo, **NODES, "EXTRA": {"a": 1}}
    whole, part = normalise(body), normalise(_read_part(body))
    assert {k: v for k, v in whole["setlinfo"].items() if k in part["setlinfo"]} == part["setlinfo"]
    for name in ("setl_id", "gend", "age", "adm_time", "dscg_time", "medfee_sumamt", "nwb_age", "nwb_bir_wt",
                 "brdy", "dscg_caty", "chfpdr_code", "psn_no", "mdtrt_id", "dscg_way"):
        assert whole["setlinfo"].get(name) == part["setlinfo"].get(name), name
    assert all(whole.get(n) == part.get(n) for n in ("diseinfo", "oprninfo", "iteminfo"))
    assert "payinfo" not in part and "hi_no" not in part["setlinfo"]
    stay = read_list({"fixmedins_code": "H1", "input": body}).stay
    assert stay.setl_id == "S1" and stay.diagnoses == ("I10.x00", "E11.900") and stay.total_fen == 320000


@pytest.mark.parametrize("age", ["16", 16, "16.0", 16.0, "16.5"])
def test_a_stated_age_is_read_in_whole_years_as_the_national_number_4_1(age: object) -> None:
    body = {"setlinfo": {**SETLINFO, "brdy": "", "age": age}, **NODES}
    assert read_list({"fixmedins_code": "H1", "input": body}).stay.stated_age == 16
