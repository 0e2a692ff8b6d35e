"""``limits.plausibility_at`` tells the common list from its texts (``_PLAIN_STAY``): over generated times and
dates, valid and not, its findings are those of reading the times (``_plausibility_read``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.collection.domain import limits
from services.collection.domain.limits import _plausibility_read, plausibility_at

_NOW = datetime(2026, 3, 1, 12, 0, 0)
_YEARS = st.sampled_from(["0000", "0001", "1869", "1870", "1935", "2016", "2017", "2018", "2024", "2025", "2026",
                          "2031", "2032", "2033", "2034", "2035", "9999"])
_MONTHS = st.sampled_from([f"{m:02d}" for m in range(0, 14)])
_DAYS = st.sampled_from([f"{d:02d}" for d in (0, 1, 9, 10, 19, 27, 28, 29, 30, 31, 32)])
_CLOCK = st.tuples(st.sampled_from(["00", "09", "19", "23", "24"]), st.sampled_from(["00", "59", "60"]),
                   st.sampled_from(["00", "59", "60"])).map(":".join)


@st.composite
def days(draw: st.DrawFn) -> str:
    return f"{draw(_YEARS)}-{draw(_MONTHS)}-{draw(_DAYS)}"


_TIMES = st.one_of(st.builds(lambda d, c: f"{d} {c}", days(), _CLOCK), days(),
                   st.sampled_from([None, "", 20250101, "2025/01/02 10:00:00", "20250101120000", " 2025-01-01",
                                    "2025-01-01T10:00:00", "2025-01-01 10:00:00+08:00", 1735689600000, True]))
_BIRTHS = st.one_of(days(), _TIMES)


@settings(max_examples=3000)
@given(_TIMES, _TIMES, _BIRTHS)
def test_the_findings_are_those_of_reading_the_times(admitted: Any, discharged: Any, born: Any) -> None:
    setlinfo = {k: v for k, v in (("adm_time", admitted), ("dscg_time", discharged), ("brdy", born)) if v is not None}
    body = {"setlinfo": setlinfo}
    assert plausibility_at(body, _NOW) == _plausibility_read(setlinfo, _NOW)


@pytest.mark.parametrize("setlinfo", [
    {"adm_time": "2024-12-26 15:45:00", "dscg_time": "2025-01-01 14:42:00", "brdy": "1935-07-01"},
    {"adm_time": "2024-12-31 23:59:59", "dscg_time": "2031-12-31 00:00:00", "brdy": "2024-12-31"},
    {"adm_time": "2024-04-30 00:00:00", "dscg_time": "2024-05-31 10:00:00", "brdy": "1870-01-01"},
])
def test_a_common_list_is_told_from_its_texts(setlinfo: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def unread(value: Any) -> None:
        raise AssertionError(f"{value!r} read")

    monkeypatch.setattr(limits, "read_time", unread)
    assert plausibility_at({"setlinfo": setlinfo}, _NOW) == []


@pytest.mark.parametrize(("setlinfo", "codes"), [
    ({"adm_time": "2024-02-29 10:00:00", "dscg_time": "2024-03-01 10:00:00", "brdy": "2024-03-01"}, ["QC-LIM-008"]),
    ({"adm_time": "2024-01-01 10:00:00", "dscg_time": "2024-01-02 10:00:00", "brdy": "1869-12-31"}, ["QC-LIM-008"]),
    ({"adm_time": "2014-01-01 10:00:00", "dscg_time": "2024-01-02 10:00:00", "brdy": "1950-01-01"}, ["QC-LIM-009"]),
    ({"adm_time": "2016-01-01 10:00:00", "dscg_time": "2024-01-02 10:00:00", "brdy": "1950-01-01"}, []),
    ({"adm_time": "2024-02-30 10:00:00", "dscg_time": "2024-03-01 10:00:00", "brdy": "2027-01-01"}, ["QC-LIM-008"]),
])
def test_the_texts_that_are_not_plain_are_read(setlinfo: dict[str, str], codes: list[str]) -> None:
    assert [f.code for f in plausibility_at({"setlinfo": setlinfo}, _NOW)] == codes
