from __future__ import annotations

from datetime import date

import pytest
from google.type import date_pb2

from libs.common.dates import Period, date_from_proto, date_to_proto
from libs.common.errors import InvalidArgument


def test_periods_parse_print_and_span() -> None:
    march = Period.parse("2026-03")
    assert (march.year, march.month, str(march)) == (2026, 3, "2026-03")
    assert (march.first_day, march.last_day) == (date(2026, 3, 1), date(2026, 3, 31))
    assert Period.parse("2024-02").last_day == date(2024, 2, 29)
    year = Period.parse("2026")
    assert not year.is_month and str(year) == "2026" and year.last_day == date(2026, 12, 31)
    assert [str(m) for m in year.months()][::11] == ["2026-01", "2026-12"] and march.months() == [march]
    assert march.contains(date(2026, 3, 31)) and not march.contains(date(2026, 4, 1))
    assert Period(2026, 1) < Period(2026, 2)


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "26-01", "2026/01", "", "2026-1"])
def test_bad_periods_name_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        Period.parse(bad, field="settlement_period")
    assert raised.value.metadata == {"field": "settlement_period"}


def test_periods_on_the_wire_are_dates_with_day_zero() -> None:
    assert Period(2026, 3).to_proto() == date_pb2.Date(year=2026, month=3, day=0)
    assert Period(2026).to_proto() == date_pb2.Date(year=2026)
    assert Period.from_proto(date_pb2.Date(year=2026, month=3)) == Period(2026, 3)
    assert Period.from_proto(date_pb2.Date(year=2026)) == Period(2026)
    with pytest.raises(InvalidArgument, match="day 0"):
        Period.from_proto(date_pb2.Date(year=2026, month=3, day=1))
    with pytest.raises(InvalidArgument, match="month"):
        Period.from_proto(date_pb2.Date(year=2026), allow_year=False)
    with pytest.raises(InvalidArgument, match="month 13"):
        Period.from_proto(date_pb2.Date(year=2026, month=13))


def test_calendar_days_on_the_wire() -> None:
    assert date_to_proto(date(2026, 3, 31)) == date_pb2.Date(year=2026, month=3, day=31)
    assert date_to_proto(None) is None
    assert date_from_proto(date_pb2.Date(year=2026, month=3, day=31), "d") == date(2026, 3, 31)
    assert date_from_proto(date_pb2.Date(), "d") is None
    with pytest.raises(InvalidArgument, match="admission_date"):
        date_from_proto(date_pb2.Date(year=2026, month=2, day=30), "admission_date")
