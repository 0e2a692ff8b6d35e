"""CheckStay's request as a stay: fee times as the national interface writes them (China Standard Time), every
missing or unreadable field named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st
from medpay.common.v1 import common_pb2
from medpay.review.v1 import review_service_pb2 as pb

from libs.common.errors import InvalidArgument
from libs.national.fees import FeeLine, fee_local
from services.evaluation.api.review.servicer import stay_of_request


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def _stay(*lines: pb.FeeLine) -> pb.Stay:
    return pb.Stay(fixmedins_code="H1", mdtrt_id="M1", admission_time=_ts(datetime(2026, 1, 3, tzinfo=UTC)),
                   fee_lines=lines)


def _line(sn: str = "1", **changes: object) -> pb.FeeLine:
    fields: dict[str, object] = {"feedetl_sn": sn, "med_list_codg": "X1", "med_chrgitm_type": "09", "cnt": "2",
                                 "pric": "12.50", "amount": common_pb2.Money(fen=2500),
                                 "fee_time": _ts(datetime(2026, 1, 3, 1, 2, 3, tzinfo=UTC))}
    fields.update(changes)
    return pb.FeeLine(**{k: v for k, v in fields.items() if v is not None})  # type: ignore[arg-type]


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 31)))
def test_fee_times_are_written_as_fee_local_writes_them(moment: datetime) -> None:
    at = moment.replace(microsecond=0, tzinfo=UTC)
    [line] = stay_of_request(_stay(_line(fee_time=_ts(at)))).details
    assert line.time == fee_local(at)


def test_a_line_reads_into_a_fee_line() -> None:
    [line] = stay_of_request(_stay(_line(init_feedetl_sn="0"))).details
    assert line == FeeLine("1", "X1", "09", "2026-01-03 09:02:03", 2_000_000, 12_500_000, 2500, "", "0")
    assert type(line) is FeeLine


@pytest.mark.parametrize(("changes", "field"), [
    ({"fee_time": None}, "stay.fee_lines[1].fee_time"), ({"cnt": "two"}, "stay.fee_lines[1].cnt"),
    ({"pric": "1e3"}, "stay.fee_lines[1].pric"), ({"med_chrgitm_type": "15"}, "stay.fee_lines[1].med_chrgitm_type"),
    ({"med_list_codg": None}, "stay.fee_lines[1]"), ({"fee_time": None, "cnt": "x"}, "stay.fee_lines[1].fee_time"),
])
def test_the_first_bad_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as bad:
        stay_of_request(_stay(_line(), _line("2", **changes)))
    assert bad.value.violations[0].field == field


def test_a_fee_time_before_1992_is_read_through_the_calendar() -> None:
    at = datetime(1988, 7, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=5)
    [line] = stay_of_request(_stay(_line(fee_time=_ts(at)))).details
    assert line.time == fee_local(at)
