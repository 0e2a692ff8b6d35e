"""Bad input files: each problem is named with its file, line and field; odd but valid files read the same."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.evaluation.adapters.indicators.arrow_cases import read_cases_fast
from services.evaluation.adapters.indicators.files import (
    DIED,
    DISCHARGE_WAYS,
    MAX_LOS,
    InputFileError,
    read_cases,
    read_weights,
)

from .support import case, computed, write_inputs


def lines_of(*cases: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(c) + b"\n" for c in cases)


def good(i: int) -> dict[str, Any]:
    return case(f"c{i}", person=f"P{i}")


def with_field(field: str, value: Any) -> dict[str, Any]:
    bad = good(3)
    bad[field] = value
    return bad


def without(field: str) -> dict[str, Any]:
    bad = good(3)
    del bad[field]
    return bad


@pytest.mark.parametrize(("line3", "message"), [
    (b'{"case_id": "c3",', ":3: not valid JSON"),
    (b"[1, 2]", ":3: a case must be a JSON object"),
    (orjson.dumps(without("psn_no")), ":3: missing field 'psn_no'"),
    (orjson.dumps(with_field("los", "6")), ":3: field 'los' must be an integer number of days"),
    (orjson.dumps(with_field("los", 6.0)), ":3: field 'los' must be an integer number of days"),
    (orjson.dumps(with_field("los", True)), ":3: field 'los' must be an integer number of days"),
    (orjson.dumps(with_field("los", -1)), ":3: field 'los' must be >= 0"),
    (orjson.dumps(with_field("los", 7)).replace(b'"los":7', b'"los":' + b"9" * 30),
     ":3: field 'los' must be an integer number of days <= 36500"),
    (orjson.dumps(with_field("los", 36501)), ":3: field 'los' must be an integer number of days <= 36500"),
    (orjson.dumps(with_field("hospital", None)), ":3: field 'hospital' must be a string, got null"),
    (orjson.dumps(with_field("hospital", "")), ":3: field 'hospital' must not be empty"),
    (orjson.dumps(with_field("dept", "A,B")), ":3: field 'dept' 'A,B' contains a comma"),
    (orjson.dumps(with_field("group", 1234)), ":3: field 'group' must be a string, got 1234"),
    (orjson.dumps(with_field("dscg_way", "7")), ":3: field 'dscg_way' must be one of 1, 2, 3, 4, 5"),
    (orjson.dumps(with_field("dscg_way", 5)), ":3: field 'dscg_way' must be a string, got 5"),
    (orjson.dumps(with_field("adm_date", "2026-02-30")), ":3: field 'adm_date' must be a date YYYY-MM-DD"),
    (orjson.dumps(with_field("adm_date", "2026-W01-1")), ":3: field 'adm_date' must be a date YYYY-MM-DD"),
    (orjson.dumps(with_field("dscg_date", "2025-12-31")), ":3: field 'dscg_date' discharge date is before"),
    (orjson.dumps(with_field("total_cost", "12.345")), ":3: field 'total_cost' must be an amount of yuan"),
    (orjson.dumps(with_field("total_cost", "-1.00")), ":3: field 'total_cost' must be an amount of yuan"),
    (orjson.dumps(with_field("total_cost", 12.5)), ":3: field 'total_cost' must be a string, got 12.5"),
    (orjson.dumps(with_field("case_id", "c1")), ":3: case_id 'c1' appears again (first on line 1)"),
])
def test_a_bad_line_is_named_with_file_line_and_field(tmp_path: Path, line3: bytes, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(lines_of(good(1), good(2)) + line3 + b"\n" + lines_of(good(4)))
    with pytest.raises(InputFileError) as raised:
        read_cases(path)
    assert str(raised.value).startswith(f"{path}:"), raised.value
    assert message in str(raised.value), raised.value


def test_a_duplicate_in_a_later_chunk_names_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(lines_of(*(good(i) for i in range(1, 400)), good(7)))
    with pytest.raises(InputFileError, match=r":400: case_id 'c7' appears again \(first on line 7\)"):
        read_cases(path)
    from services.evaluation.adapters.indicators.files import read_cases_by_line
    with pytest.raises(InputFileError, match=r":400: case_id 'c7' appears again \(first on line 7\)"):
        read_cases_by_line(path, path.read_bytes(), chunk_bytes=1000)


def test_files_that_are_not_there_empty_or_broken(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_cases(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    with pytest.raises(InputFileError, match="no cases"):
        read_cases(tmp_path / "empty.jsonl")
    (tmp_path / "broken.jsonl.gz").write_bytes(gzip.compress(lines_of(good(1)))[:-6])
    with pytest.raises(InputFileError, match="not a complete gzip file"):
        read_cases(tmp_path / "broken.jsonl.gz")
    (tmp_path / "latin.jsonl").write_bytes(lines_of(good(1)).replace(b'"H1"', b'"H\xe91"'))
    with pytest.raises(InputFileError, match=":1: not valid JSON"):
        read_cases(tmp_path / "latin.jsonl")


def test_unusual_but_valid_layouts_are_read_line_by_line_with_the_same_result(tmp_path: Path) -> None:
    cases = [good(1), good(2), good(3)]
    plain = computed(tmp_path / "plain", cases, {"G1": "1.0000"})
    variants = {
        "blank lines": b"\n" + lines_of(cases[0]) + b"\n   \n" + lines_of(*cases[1:]),
        "crlf": lines_of(*cases).replace(b"\n", b"\r\n"),
        "no final newline": lines_of(*cases).rstrip(b"\n"),
        "spaces": b"  " + lines_of(*cases).replace(b"\n", b" \n"),
    }
    for name, data in variants.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(data)
        cases_file, weights_file = write_inputs(tmp_path / name, cases, {"G1": "1.0000"})
        cases_file.write_bytes(data)
        from services.evaluation.adapters.indicators.files import indicators_csv
        from services.evaluation.domain.indicators.compute import compute_indicators
        got = "".join(indicators_csv(compute_indicators(read_cases(cases_file), read_weights(weights_file)).rows))
        assert got == plain, name
    gz = tmp_path / "cases.jsonl.gz"
    gz.write_bytes(gzip.compress(lines_of(*cases)))
    assert len(read_cases(gz)) == 3


@pytest.mark.parametrize("data", [
    b'{"case_id": "a"} {"case_id": "b"}\n',           # two objects on one line
    b'{\n  "case_id": "a"\n}\n',                         # pretty-printed
    b'{"case_id": "a",\n"los": 1}\n',                    # an object over two lines
])
def test_the_fast_reader_declines_what_is_not_one_object_per_line(data: bytes) -> None:
    assert read_cases_fast(data, DISCHARGE_WAYS, DIED, MAX_LOS) is None


def test_two_objects_on_a_line_are_an_error_even_when_arrow_could_read_them(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(orjson.dumps(good(1)) + b" " + orjson.dumps(good(2)) + b"\n")
    with pytest.raises(InputFileError, match=":1: not valid JSON"):
        read_cases(path)


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty file"),
    ("group,kept_cases\nG1,3\n", ":1: the header has no 'rw' column"),
    ("group,rw\nG1,1.0000\nG1,2.0000\n", ":3: group 'G1' appears again (first on line 2)"),
    ("group,rw\nG1,1.00001\n", ":2: rw of G1 must be a decimal >= 0 with at most 4 decimals, got '1.00001'"),
    ("group,rw\nG1,-1\n", ":2: rw of G1 must be a decimal"),
    ("group,rw\nG1,\n", ":2: rw of G1 must be a decimal"),
    ("group,rw\nG1\n", ":2: 1 columns, the header has 2"),
    ("group,rw\n,1.0\n", ":2: empty group"),
])
def test_bad_weights_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "weights.csv"
    path.write_text(content)
    with pytest.raises(InputFileError) as raised:
        read_weights(path)
    assert str(raised.value).startswith(str(path)) and message in str(raised.value), raised.value


def test_weights_with_fewer_decimals_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "weights.csv"
    path.write_text("group,kept_cases,avg_cost,rw,source\nA,1,2.00,1.5,data\nB,1,2.00,0.0001,data\nC,1,2,3,x\n")
    assert read_weights(path) == {"A": 15_000, "B": 1, "C": 30_000}
