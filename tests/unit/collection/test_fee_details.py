"""Reading and checking a 2301 upload: refusals name each line and field; data-quality findings are warnings."""

from __future__ import annotations

from typing import Any

import pytest

from libs.national.fees import read_feedetail
from services.collection.domain.fee_details import (
    already_uploaded,
    line_findings,
    read_upload,
    sum_findings,
    with_sum_check,
)
from services.collection.domain.model import CodeVerdict, Severity


def entry(sn: str, **changes: Any) -> dict[str, Any]:
    base = {"feedetl_sn": sn, "mdtrt_id": "M1", "psn_no": "P1", "med_type": "21",
            "fee_ocur_time": "2026-03-02 09:15:00", "med_list_codg": "001102000010000", "medins_list_codg": "Y1",
            "med_chrgitm_type": "02", "cnt": "2", "pric": "12.50", "det_item_fee_sumamt": "25.00",
            "bilg_dept_codg": "A03", "bilg_dr_codg": "D1"}
    return {**base, **changes}


def test_a_clean_upload_reads_every_line_with_what_the_hospital_sent() -> None:
    upload, problems = read_upload("H1", {"feedetail": [entry("1"), entry("2", cnt="1", det_item_fee_sumamt="12.50")]})
    assert problems == [] and upload is not None
    assert upload.mdtrt_id == "M1" and [r.line.sn for r in upload.rows] == ["1", "2"]
    assert upload.rows[0].medins_list_codg == "Y1" and upload.rows[0].dept == "A03"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({}, "FD-REQ-001", "feedetail"),
    ({"feedetail": []}, "FD-REQ-001", "feedetail"),
    ({"feedetail": [entry("1", cnt="x")]}, "FD-REQ-003", "feedetail[0]"),
    ({"feedetail": [entry("1", fee_ocur_time="")]}, "FD-REQ-003", "feedetail[0]"),
    ({"feedetail": [entry("")]}, "FD-SN-001", "feedetail[0].feedetl_sn"),
    ({"feedetail": [entry("1"), entry("1")]}, "FD-SN-002", "feedetail[1].feedetl_sn"),
    ({"feedetail": [entry("1", med_chrgitm_type="15")]}, "FD-CAT-001", "feedetail[0].med_chrgitm_type"),
    ({"feedetail": [entry("1", mdtrt_id="")]}, "FD-STAY-001", "feedetail[0].mdtrt_id"),
    ({"feedetail": [entry("1"), entry("2", mdtrt_id="M2")]}, "FD-STAY-002", "feedetail"),
    ({"feedetail": [entry(str(i)) for i in range(10_001)]}, "FD-REQ-002", "feedetail"),
])
def test_unreadable_uploads_are_refused_naming_line_and_field(body: Any, code: str, field: str) -> None:
    upload, problems = read_upload("H1", body)
    assert upload is None
    assert any(p.code == code and p.field == field and p.severity is Severity.ERROR for p in problems), problems


def test_a_serial_already_current_for_the_stay_is_refused() -> None:
    upload, _ = read_upload("H1", {"feedetail": [entry("1"), entry("2")]})
    assert upload is not None
    [problem] = already_uploaded(upload, {"2", "9"})
    assert problem.code == "FD-SN-003" and problem.field == "feedetail[1].feedetl_sn" and "2302" in problem.message_en


def test_amounts_and_codes_are_data_quality_warnings() -> None:
    lines = [read_feedetail(entry("1", det_item_fee_sumamt="26.00")), read_feedetail(entry("2", med_list_codg="X?"))]
    verdicts = {("", "001102000010000"): CodeVerdict("VALID", ""), ("", "X?"): CodeVerdict("MALFORMED", "bad shape")}
    found = line_findings(lines, verdicts)  # type: ignore[arg-type]
    assert [(f.code, f.field, f.severity) for f in found] == [
        ("FD-AMT-001", "feedetl_sn 1", Severity.WARNING), ("FD-CODE-001", "feedetl_sn 2", Severity.WARNING)]
    assert "= 25.00" in found[0].message_en


def test_details_against_the_list_categories_or_the_record_total() -> None:
    details = {"02": 2500, "09": 1000}
    assert sum_findings(details, {"02": 2500, "09": 1000}, None) == []
    [by_category] = sum_findings(details, {"02": 2500, "09": 900, "01": 100}, 9999)
    assert by_category.code == "FD-SUM-001" and "2 categories" in by_category.message_en
    assert sum_findings(details, None, 3500) == []
    [by_total] = sum_findings(details, None, 3600)
    assert by_total.code == "FD-SUM-002" and "36.00" in by_total.message_en
    assert sum_findings(details, None, None) == []


def test_the_sum_check_is_made_again_against_the_list_as_it_is_now() -> None:
    lines = [read_feedetail(entry("1")), read_feedetail(entry("2", med_chrgitm_type="09"))]
    stored = line_findings(lines[:1], {}) + sum_findings({"02": 2500}, {"02": 2500, "09": 2500}, None)
    assert [f.code for f in stored] == ["FD-SUM-001"]  # stored when the first line came
    assert with_sum_check(stored, lines, ({"02": 2500, "09": 2500}, None)) == []  # now they add up
    assert [f.code for f in with_sum_check([], lines, ({"02": 2500}, None))] == ["FD-SUM-001"]  # list came later
    assert [f.code for f in with_sum_check([], lines, (None, 4000))] == ["FD-SUM-002"]  # a HIS list's record
    amount = line_findings([read_feedetail(entry("3", det_item_fee_sumamt="1.00"))], {})
    assert with_sum_check(amount + stored, lines, None) == amount  # no list: no sum check, line findings kept
