"""Settlement records read from the core system's lines, and a list meeting its record: the case takes the
record's person and money, the list's own statements are cross-checked, a list without its record waits."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.domain.join import join
from services.collection.domain.model import CodeVerdict, MoneySource, Severity
from services.collection.domain.parsing import parse_list
from services.collection.domain.qc import run_qc
from services.collection.domain.records import RecordRefused, parse_record

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))
CODE = SAMPLE["fixmedins_code"]
PATIENT = ("psn_name", "gend", "brdy", "age", "insutype")


def record(**setlinfo: Any) -> dict[str, Any]:
    """A 2304 line for the sample's stay: 27,490.85 in all, 19,874.68 from the fund, the rest personal."""
    s = SAMPLE["input"]["setlinfo"]
    base = {"mdtrt_id": s["mdtrt_id"], "setl_id": s["setl_id"], "psn_no": s["psn_no"], "psn_name": "示例患者",
            "gend": "1", "brdy": "1961-07-19", "age": "64.0", "insutype": "310", "setl_time": "2026-02-09 11:00:00",
            "medfee_sumamt": "27490.85", "fund_pay_sumamt": "19874.68", "psn_part_amt": "7616.17",
            "acct_pay": "1000.00", "psn_cash_pay": "6616.17", "hosp_part_amt": "0.00"}
    return {"infno": "2304", "fixmedins_code": CODE, "fixmedins_name": "示例医院", "setlinfo": base | setlinfo,
            "setldetail": [{"fund_pay_type": "310100", "fund_payamt": "19874.68"}]}


def his_list() -> dict[str, Any]:
    """The sample as hospital systems send 4101A: no patient fields, no cost nodes."""
    body = copy.deepcopy(SAMPLE["input"])
    body["diseinfo"] = body["diseinfo"][:3]
    body["oprninfo"][1]["anst_dr_code"] = "D330703000456"
    for name in PATIENT:
        body["setlinfo"][name] = ""
    body["iteminfo"], body["payinfo"] = None, None
    return body


def rich_list() -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE["input"])
    body["diseinfo"] = body["diseinfo"][:3]
    body["oprninfo"][1]["anst_dr_code"] = "D330703000456"
    return body


def valid(body: dict[str, Any]) -> dict[tuple[str, str], CodeVerdict]:
    from services.collection.domain.codes import coded_fields

    return {(f.system_id, f.code): CodeVerdict("VALID", "") for f in coded_fields({"fixmedins_code": CODE,
                                                                                    "input": body})}


def test_a_settlement_record_is_read_in_fen() -> None:
    r = parse_record(record())
    assert (r.total_fen, r.fund_fen, r.personal_fen, r.account_fen, r.cash_fen) == (2749085, 1987468, 761617,
                                                                                     100000, 661617)
    assert (r.sex, r.birth_date, r.insutype, r.psn_no) == (1, date(1961, 7, 19), "310", "33070020190000654321")
    assert not r.is_reversal
    assert parse_record(record()).digest == parse_record(json.loads(json.dumps(record()))).digest
    assert parse_record(record(age="65.0")).digest != r.digest


def test_the_personal_share_defaults_to_account_and_cash() -> None:
    line = record()
    del line["setlinfo"]["psn_part_amt"]
    assert parse_record(line).personal_fen == 761617


def test_a_reversal_needs_only_its_settlement_id() -> None:
    r = parse_record({"infno": "2305", "fixmedins_code": CODE, "setlinfo": {"setl_id": "S1", "psn_no": "P1"}})
    assert r.is_reversal and (r.setl_id, r.psn_no, r.total_fen) == ("S1", "P1", 0)


@pytest.mark.parametrize(("line", "field"), [
    ("not an object", ""),
    ({"infno": "2303", "fixmedins_code": CODE, "setlinfo": {}}, "infno"),
    ({**record(), "fixmedins_code": "H3307"}, "fixmedins_code"),
    ({**record(), "setlinfo": []}, "setlinfo"),
    (record(setl_id=""), "setlinfo.setl_id"),
    (record(psn_no=None), "setlinfo.psn_no"),
    (record(setl_id="S" * 31), "setlinfo.setl_id"),
    (record(medfee_sumamt="12.345"), "setlinfo.medfee_sumamt"),
    (record(fund_pay_sumamt="-1.00"), "setlinfo.fund_pay_sumamt"),
    (record(fund_pay_sumamt=None), "setlinfo.fund_pay_sumamt"),
    (record(brdy="1961-13-01"), "setlinfo.brdy"),
])
def test_what_is_not_a_settlement_record_is_refused_naming_the_field(line: Any, field: str) -> None:
    with pytest.raises(RecordRefused) as refused:
        parse_record(line)
    assert refused.value.field == field


def test_a_his_list_passes_its_own_rules_and_waits_for_its_record() -> None:
    body = his_list()
    parsed, problems = parse_list(CODE, "", body)
    assert parsed is not None and not problems
    assert not parsed.is_case and parsed.money is None
    assert [f for f in run_qc(parsed, valid(body)) if f.severity is Severity.ERROR] == []


def test_joined_with_its_record_the_list_is_a_case_with_the_records_person_and_money() -> None:
    body = his_list()
    parsed, _ = parse_list(CODE, "", body)
    assert parsed is not None
    case, findings = join(parsed, parse_record(record()), 1)
    assert case.is_case and case.record_revision == 1 and findings == []
    assert case.money is not None and case.money.source is MoneySource.SETTLEMENT_RECORD
    assert (case.total_fen, case.fund_fen, case.money.personal_fen) == (2749085, 1987468, 761617)
    assert (case.facts.sex, case.facts.age_years, case.facts.age_days) == (1, 64, None)
    assert run_qc(case, valid(body)) == []


def test_a_newborns_age_in_days_comes_from_the_records_birth_date() -> None:
    body = his_list()
    body["setlinfo"]["nwb_bir_wt"] = "3200"
    parsed, _ = parse_list(CODE, "", body)
    assert parsed is not None
    case, _ = join(parsed, parse_record(record(brdy="2026-01-20", age="0")), 1)
    assert (case.facts.age_years, case.facts.age_days, case.facts.birth_weight_g) == (0, 12, 3200)
    assert not [f for f in run_qc(case, valid(body)) if f.code.startswith("QC-NB")]
    case, _ = join(parsed, parse_record(record(brdy="2025-12-01", age="0")), 1)  # 62 days: no weight needed
    assert case.facts.age_days == 62


def test_the_person_is_required_of_the_case() -> None:
    body = his_list()
    parsed, _ = parse_list(CODE, "", body)
    assert parsed is not None
    case, _ = join(parsed, parse_record(record(gend="", insutype="")), 1)
    codes = {f.code for f in run_qc(case, valid(body)) if f.severity is Severity.ERROR}
    assert {"QC-SEX-002", "QC-REQ-001"} <= codes


def test_what_the_list_says_itself_is_cross_checked_against_the_record() -> None:
    body = rich_list()
    body["setlinfo"] |= {"psn_name": "别人", "gend": "2", "acct_pay": "999.00", "psn_cashpay": "6617.17"}
    parsed, _ = parse_list(CODE, "", body)
    assert parsed is not None
    case, findings = join(parsed, parse_record(record()), 3)
    by_code = {f.code: f for f in findings}
    assert {"QC-REC-003", "QC-REC-004", "QC-REC-007", "QC-REC-008"} <= by_code.keys()
    assert all(f.severity is Severity.WARNING for f in findings)
    assert case.facts.sex == 1  # the record's sex is the case's


@pytest.mark.parametrize(("setlinfo", "rule", "severity"), [
    ({"psn_no": "33070020190000000001"}, "QC-REC-001", Severity.ERROR),
    ({"mdtrt_id": "330700M2026020100999"}, "QC-REC-002", Severity.WARNING),
    ({"medfee_sumamt": "27490.86", "psn_part_amt": "7616.18", "psn_cash_pay": "6616.18"}, "QC-FEE-001",
     Severity.ERROR),
    ({"fund_pay_sumamt": "19874.00", "psn_part_amt": "7616.85", "psn_cash_pay": "6616.85"}, "QC-FEE-006",
     Severity.ERROR),
    ({"psn_part_amt": "7000.00"}, "QC-REC-009", Severity.WARNING),
])
def test_disagreements_with_the_record_are_findings(setlinfo: dict[str, str], rule: str,
                                                    severity: Severity) -> None:
    parsed, _ = parse_list(CODE, "", rich_list())
    assert parsed is not None
    _, findings = join(parsed, parse_record(record(**setlinfo)), 1)
    assert [(f.code, f.severity) for f in findings] == [(rule, severity)]


def test_a_rich_list_without_its_record_is_a_case_of_its_own() -> None:
    parsed, _ = parse_list(CODE, "", rich_list())
    assert parsed is not None and parsed.is_case
    assert parsed.money is not None and parsed.money.source is MoneySource.LIST
    assert (parsed.total_fen, parsed.fund_fen) == (2749085, 1987468)
    body = rich_list()
    body["setlinfo"]["insutype"] = ""
    parsed, _ = parse_list(CODE, "", body)
    assert parsed is not None and not parsed.is_case  # without its insurance type it waits for the record
