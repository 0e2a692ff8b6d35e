"""Quality-control rules, each on a hand-made list: the rule fires on the fault and stays quiet otherwise."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.domain.model import CodeVerdict, Severity
from services.collection.domain.parsing import parse_list
from services.collection.domain.qc import run_qc

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))


def clean_body() -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE["input"])
    body["diseinfo"] = body["diseinfo"][:3]
    body["oprninfo"][1]["anst_dr_code"] = "D330703000456"
    return body


def codes(body: dict[str, Any], bad: dict[str, str] | None = None) -> dict[tuple[str, str], CodeVerdict]:
    from services.collection.domain.codes import coded_fields

    found = coded_fields({"fixmedins_code": SAMPLE["fixmedins_code"], "input": body})
    return {(f.system_id, f.code): CodeVerdict((bad or {}).get(f.code, "VALID"), "test") for f in found}


def rules_fired(body: dict[str, Any], bad: dict[str, str] | None = None) -> set[str]:
    parsed, structural = parse_list(SAMPLE["fixmedins_code"], "", body)
    if parsed is None:
        return {f.code for f in structural}
    return {f.code for f in run_qc(parsed, codes(body, bad)) if f.severity is Severity.ERROR}


def test_the_clean_sample_passes_every_rule() -> None:
    assert rules_fired(clean_body()) == set()


def test_the_interface_example_without_personal_payments_is_accepted() -> None:
    body = clean_body()
    for key in ("acct_pay", "psn_cashpay", "medfee_sumamt"):
        body["setlinfo"].pop(key, None)
    assert rules_fired(body) == set()


def edit(path: str, value: Any) -> dict[str, Any]:
    body = clean_body()
    node: Any = body
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(("path", "value", "rule"), [
    ("diseinfo.0.maindiag_flag", "0", "QC-DX-001"),
    ("diseinfo.1.maindiag_flag", "1", "QC-DX-001"),
    ("setlinfo.gend", "3", "QC-SEX-002"),
    ("setlinfo.dscg_time", "2026-01-01 08:00:00", "QC-DT-002"),
    ("setlinfo.adm_time", "02/01/2026 08:40", "QC-DT-001"),
    ("setlinfo.dscg_way", "2", "QC-TR-001"),
    ("setlinfo.medfee_sumamt", "1.00", "QC-FEE-001"),
    ("iteminfo.0.amt", "451.00", "QC-FEE-002"),
    ("iteminfo.0.med_chrgitm", "15", "QC-FEE-003"),
    ("iteminfo.0.amt", "4.505", "QC-FEE-004"),
    ("setlinfo.mdtrt_id", KeyError, "QC-REQ-001"),
    ("setlinfo.dscg_caty", "", "QC-REQ-001"),
    ("diseinfo", [], "QC-REQ-001"),
    ("iteminfo", {"amt": "1.00"}, "QC-REQ-001"),
    ("diseinfo", [1, 2], "QC-REQ-002"),
    ("setlinfo.age", {"x": 1}, "QC-LIM-003"),
])
def test_each_rule_fires_on_its_fault(path: str, value: Any, rule: str) -> None:
    assert rule in rules_fired(edit(path, value))


def test_payments_must_balance_when_personal_payments_are_given() -> None:
    body = clean_body()
    fund = sum(float(p["fund_payamt"]) for p in body["payinfo"])
    body["setlinfo"]["acct_pay"], body["setlinfo"]["psn_cashpay"] = "1000.00", f"{27490.85 - fund - 1000:.2f}"
    assert rules_fired(body) == set()
    body["setlinfo"]["acct_pay"] = "999.00"
    assert "QC-FEE-005" in rules_fired(body)


def test_a_pregnancy_code_on_a_man_and_prostate_on_a_woman() -> None:
    body = clean_body()
    body["diseinfo"].append({"diag_code": "O80.000", "maindiag_flag": "0"})
    assert "QC-SEX-001" in rules_fired(body)
    body = edit("setlinfo.gend", "2")
    body["diseinfo"].append({"diag_code": "N40.x00", "maindiag_flag": "0"})
    assert "QC-SEX-001" in rules_fired(body)


def test_newborn_rules() -> None:
    body = edit("setlinfo.age", 0)
    assert "QC-NB-001" in rules_fired(body)
    body["setlinfo"]["nwb_age"] = 3
    assert "QC-NB-002" in rules_fired(body)
    body["setlinfo"]["nwbbirwt"] = 2900  # the other provincial spelling counts
    assert not {"QC-NB-001", "QC-NB-002"} & rules_fired(body)


def test_invalid_codes_are_errors_and_unregistered_institutions_warnings() -> None:
    body = clean_body()
    assert "QC-DX-002" in rules_fired(body, {"I21.000x005": "UNKNOWN"})
    assert "QC-PX-001" in rules_fired(body, {"36.0600": "RETIRED"})
    assert "QC-ORG-001" in rules_fired(body, {"D330703000123": "MALFORMED"})
    parsed, _ = parse_list(SAMPLE["fixmedins_code"], "", body)
    assert parsed is not None
    warned = run_qc(parsed, codes(body, {SAMPLE["fixmedins_code"]: "UNKNOWN"}))
    assert [(f.code, f.severity) for f in warned] == [("QC-ORG-002", Severity.WARNING)]


def test_length_of_stay_disagreement_is_a_warning() -> None:
    body = edit("setlinfo.act_ipt_days", 30)
    parsed, _ = parse_list(SAMPLE["fixmedins_code"], "", body)
    assert parsed is not None
    found = run_qc(parsed, codes(body))
    assert [(f.code, f.severity) for f in found] == [("QC-DT-003", Severity.WARNING)]


def test_findings_carry_both_languages_and_the_field() -> None:
    parsed, _ = parse_list(SAMPLE["fixmedins_code"], "", edit("setlinfo.dscg_way", "3"))
    assert parsed is not None
    finding = next(f for f in run_qc(parsed, {}) if f.code == "QC-TR-001")
    assert finding.field == "setlinfo.acp_optins_code" and finding.message_zh and finding.message_en


@pytest.mark.parametrize("value", ["2026-02-30", "20260230", "yesterday", "2026/13/01"])
def test_a_settlement_end_that_is_not_a_date_is_rejected(value: str) -> None:
    assert rules_fired(edit("setlinfo.setl_end_date", value)) == {"QC-DT-004"}


def test_an_age_that_does_not_match_the_birth_date_is_a_warning() -> None:
    from services.collection.domain.parsing import parse_list

    def age_findings(body: dict[str, Any]) -> list[tuple[str, Severity, str]]:
        parsed, _ = parse_list(SAMPLE["fixmedins_code"], "", body)
        assert parsed is not None
        return [(f.code, f.severity, f.message_en) for f in run_qc(parsed, codes(body)) if f.code == "QC-AGE-001"]

    assert age_findings(clean_body()) == []  # 1961-07-19, admitted 2026-02-01: 64
    [(_, severity, message)] = age_findings(edit("setlinfo.age", 30))
    assert severity is Severity.WARNING and "(64)" in message
    assert age_findings(edit("setlinfo.brdy", "1961-02-01")) == [
        ("QC-AGE-001", Severity.WARNING, "age 64 does not match brdy and adm_time (65)")]  # the birthday counts
    assert age_findings(edit("setlinfo.brdy", "1961-02-02")) == []  # one day short of 65
