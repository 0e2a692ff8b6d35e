"""Reading a 2301 fee line: exact quantities and prices, tolerant times, every unreadable field named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.national.fees import (
    FeeLine,
    amount_matches,
    decode_request,
    normal_time,
    product_fen,
    read_feedetail,
    scaled,
    scaled_text,
)

ENTRY = {"feedetl_sn": "1", "mdtrt_id": "M1", "psn_no": "P1", "med_type": "21",
         "fee_ocur_time": "2026-03-02 09:15:00", "med_list_codg": "XJ01", "medins_list_codg": "Y1",
         "med_chrgitm_type": "09", "cnt": "2", "pric": "12.50", "det_item_fee_sumamt": "25.00",
         "bilg_dept_codg": "A03", "bilg_dr_codg": "D1"}


@pytest.mark.parametrize(("text", "value"), [("2", 2_000_000), ("0.5", 500_000), ("12.50", 12_500_000),
                                             ("-1", -1_000_000), ("0.000001", 1), (3, 3_000_000),
                                             (" 7 ", 7_000_000), (1.25, 1_250_000), ("1.2500000", 1_250_000)])
def test_scaled_reads_decimals_exactly(text: Any, value: int) -> None:
    assert scaled(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1e3", "0.0000001", None, True, "1.2.3", "--1"])
def test_scaled_refuses_what_is_not_a_plain_decimal(text: Any) -> None:
    assert scaled(text) is None


@given(st.decimals(min_value=Decimal("-999999"), max_value=Decimal("999999"), places=6))
def test_scaled_agrees_with_decimal(value: Decimal) -> None:
    assert scaled(str(value)) == int(value * 1_000_000)
    assert Decimal(scaled_text(int(value * 1_000_000))) == value


def test_times_in_the_shapes_hospital_systems_send() -> None:
    assert normal_time("2026-03-02 09:15:00") == "2026-03-02 09:15:00"
    assert normal_time("2026-03-02T09:15:00") == "2026-03-02 09:15:00"
    assert normal_time("2026-03-02 09:15") == "2026-03-02 09:15:00"
    assert normal_time("2026-03-02") == "2026-03-02 00:00:00"
    assert normal_time("2026-02-30 09:15") == "" and normal_time(None) == "" and normal_time("soon") == ""


def test_a_line_reads_into_exact_integers() -> None:
    line = read_feedetail(ENTRY)
    assert line == FeeLine("1", "XJ01", "09", "2026-03-02 09:15:00", 2_000_000, 12_500_000, 2500, "M1", "")
    assert isinstance(line, FeeLine) and amount_matches(line) and product_fen(line) == 2500


def test_numbers_sent_as_numbers_and_the_refunded_line_are_read() -> None:
    entry = {**ENTRY, "cnt": -2, "pric": 12.5, "det_item_fee_sumamt": "-25.00", "feedetl_sn": 7,
             "init_feedetl_sn": "1", "med_chrgitm_type": 9}
    line = read_feedetail(entry)
    assert isinstance(line, FeeLine)
    assert (line.sn, line.cnt, line.amount, line.refers_to, line.category) == ("7", -2_000_000, -2500, "1", "09")


def test_every_unreadable_field_is_named() -> None:
    problem = read_feedetail({**ENTRY, "cnt": "two", "fee_ocur_time": "", "med_list_codg": None}, 4)
    assert isinstance(problem, str)
    assert problem.startswith("feedetail[4] (feedetl_sn 1)")
    assert "cnt 'two'" in problem and "fee_ocur_time ''" in problem and "med_list_codg None" in problem
    assert str(read_feedetail("x", 2)).startswith("feedetail[2]")
    assert "feedetail[0]" in str(read_feedetail({**ENTRY, "cnt": {"v": 1}}))


def test_amounts_may_round_either_way_only_when_the_product_has_more_than_two_places() -> None:
    def line(cnt: str, pric: str, amount: int) -> FeeLine:
        c, p = scaled(cnt), scaled(pric)
        assert c is not None and p is not None
        return FeeLine("1", "X", "09", "2026-03-02 09:00:00", c, p, amount)

    assert amount_matches(line("3", "0.3333", 100)) and amount_matches(line("3", "0.3333", 99))
    assert not amount_matches(line("3", "0.3333", 101))
    assert amount_matches(line("2", "12.50", 2500)) and not amount_matches(line("2", "12.50", 2501))


def test_a_request_decodes_with_its_envelope_and_a_wrong_node_is_an_error() -> None:
    raw = orjson.dumps({"infno": "2301", "msgid": "m", "fixmedins_code": "H1", "extra": {"a": 1},
                        "input": {"feedetail": [ENTRY]}})
    request = decode_request(raw)
    assert request.fixmedins_code == "H1" and request.input is not None and request.input.feedetail
    with pytest.raises(ValueError):
        decode_request(b'{"input": {"feedetail": [{"cnt": [1]}]}}')
    with pytest.raises(ValueError):
        decode_request(b"not json")
