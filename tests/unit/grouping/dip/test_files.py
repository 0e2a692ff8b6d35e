"""The DIP file adapters: every bad input names its file and line; catalogue.tsv round-trips."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from services.grouping.adapters.dip_files import (
    DipFileError,
    catalogue_digest,
    open_lines,
    parse_catalogue,
    parse_surgery_list,
    read_cases,
    read_history,
    render_catalogue,
    surgery_list_path,
)
from services.grouping.domain.dip.case import ProcedureClasses

from .support import CLASSES, case, catalogue_of

HEADER = "group_id\tkind\tdx\tprocedures\ttype\tcases\tmean_cost\n"


def lines(*texts: str) -> list[bytes]:
    return [t.encode() + b"\n" for t in texts]


def test_cases_are_read_in_order_with_their_ids_and_costs() -> None:
    got = list(read_cases(lines('{"case_id": "a", "dx": ["K35.300"], "px": ["47.0100"], "total_cost": "1.00"}',
                                "", '{"case_id": 7, "dx": null}', '{"case_id": "c", "dx": ["I10"], "px": []}'),
                          "cases.jsonl"))
    assert [(g.line, g.case_id, g.case.dx, g.case.px, g.cost) for g in got] == [
        (1, "a", ("K35.300",), ("47.0100",), "1.00"), (3, 7, (), (), None), (4, "c", ("I10",), (), None)]


def test_the_typed_reading_reads_what_the_checking_reading_reads() -> None:
    """Well-formed lines are decoded in one typed call; lines it does not take (a missing case_id, codes that are
    not strings) take the checking path. Both read codes as written, untrimmed, empties kept for the domain."""
    texts = ('{"case_id": "a", "dx": [" K35.300 ", ""], "px": ["47.0100", "47.0100", ""], "total_cost": "10.50",'
             ' "dscg_date": "2025-01-02", "extra": {"nested": [1, 2]}}',
             '{"case_id": 9, "dx": null, "px": null, "total_cost": 12}',
             '{"case_id": "b", "dx": ["I10"], "total_cost": 3.25}',
             '{"case_id": "c", "dx": ["I10"], "px": [], "total_cost": " 4.00 "}')
    got = list(read_history(lines(*texts), "h.jsonl"))
    assert got == [(case([" K35.300 ", ""], "47.0100", "47.0100", ""), Decimal("10.50")),
                   (case([]), Decimal(12)), (case(["I10"]), Decimal("3.25")), (case(["I10"]), Decimal(4))]
    assert [c.cost for c in read_cases(lines(*texts), "c.jsonl")] == ["10.50", 12, 3.25, " 4.00 "]
    with pytest.raises(DipFileError, match=r"h\.jsonl:2: case_id is required"):
        list(read_history(lines(texts[0], '{"case_id": null, "dx": ["I10"], "total_cost": "1.00"}'), "h.jsonl"))


@pytest.mark.parametrize(("line", "problem"), [
    ('{"case_id": "a", "dx": ["K35"]', "not valid JSON"),
    ('["K35"]', "a case is a JSON object"),
    ('{"dx": ["K35"]}', "case_id is required"),
    ('{"case_id": true, "dx": ["K35"]}', "case_id is required"),
    ('{"case_id": "a", "dx": "K35.300"}', "dx must be a list of code strings"),
    ('{"case_id": "a", "dx": ["K35", 12]}', "dx[1] must be a code string, not 12"),
    ('{"case_id": "a", "dx": ["K35"], "px": [null]}', "px[0] must be a code string, not None"),
])
def test_a_malformed_case_names_file_line_and_problem(line: str, problem: str) -> None:
    good = '{"case_id": "ok", "dx": ["K35.300"]}'
    with pytest.raises(DipFileError) as caught:
        list(read_cases(lines(good, good, line), "in/cases.jsonl"))
    assert (caught.value.file, caught.value.line) == ("in/cases.jsonl", 3)
    assert problem in caught.value.problem
    assert str(caught.value).startswith("in/cases.jsonl:3: ")


@pytest.mark.parametrize(("cost", "problem"), [
    ("", "total_cost is missing"),
    (', "total_cost": null', "total_cost is missing"),
    (', "total_cost": "-1.00"', "not a non-negative decimal amount"),
    (', "total_cost": "1,000.00"', "not a non-negative decimal amount"),
    (', "total_cost": "NaN"', "not a non-negative decimal amount"),
    (', "total_cost": "1e3"', "not a non-negative decimal amount"),
    (', "total_cost": "１２"', "not a non-negative decimal amount"),  # full-width digits
    (', "total_cost": true', "not a money string"),
    (', "total_cost": {"yuan": 1}', "not a money string"),
])
def test_history_needs_a_cost_on_every_line(cost: str, problem: str) -> None:
    with pytest.raises(DipFileError, match=problem) as caught:
        list(read_history(lines('{"case_id": "a", "dx": []' + cost + "}"), "history.jsonl"))
    assert caught.value.line == 1


def test_history_costs_are_exact_decimals() -> None:
    got = list(read_history(lines('{"case_id": "a", "dx": ["I10"], "total_cost": " 12.5 "}',
                                  '{"case_id": "b", "dx": ["I10"], "total_cost": 80}',
                                  '{"case_id": "c", "dx": ["I10"], "total_cost": 0.1}'), "h"))
    assert [cost for _, cost in got] == [Decimal("12.5"), Decimal(80), Decimal("0.1")]


def test_render_and_parse_round_trip() -> None:
    history = [(case("K35.300", "47.0100"), "1.005"), (case("K35.300", "47.0100"), "2"), (case("J18.9"), "3.10"),
               (case("J18.9", "88.7600"), "4")]
    catalogue = catalogue_of(history, 2)
    text = render_catalogue(catalogue)
    assert text.decode() == (HEADER + "J18.9|\tcore\tJ18.9\t\tC\t2\t3.55\n"
                             "K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t2\t1.50\n")
    assert parse_catalogue(text, "c.tsv", CLASSES) == catalogue


def test_an_empty_catalogue_is_just_the_header() -> None:
    assert render_catalogue(catalogue_of([], 1)) == HEADER.encode()
    assert len(parse_catalogue(HEADER.encode(), "c.tsv")) == 0


@pytest.mark.parametrize(("rows", "line", "problem"), [
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t2\n", 2, "expected 7 tab-separated columns"),
    ("K35.3|47.0100\tcentral\tK35.3\t47.0100\tS\t2\t1.00\n", 2, "kind 'central'"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tX\t2\t1.00\n", 2, "type 'X'"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t2.0\t1.00\n", 2, "cases '2.0'"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t0\t1.00\n", 2, "positive"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t2\t1.0\n", 2, "two decimals"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tS\t2\t-1.00\n", 2, "two decimals"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0200\tS\t2\t1.00\n", 2, "dx|procedures"),
    ("K35.3|99.1+47.0\tcore\tK35.3\t99.1+47.0\tT\t2\t1.00\n", 2, "byte order"),
    ("K35.3|47.0100\tcore\tK35.3\t47.0100\tT\t2\t1.00\n", 2, "disagrees with the surgery list"),
    ("K35.3|\tcore\tK35.3\t\tD\t2\t1.00\n", 2, "S, T or C"),
    ("K35/S\tcomprehensive\tK35\t47.0100\tS\t2\t1.00\n", 2, "no procedures"),
    ("K35/T\tcomprehensive\tK35\t\tS\t2\t1.00\n", 2, "dx/type"),
    ("K35/S\tcomprehensive\tK35\t\tS\t2\t1.00\nK35/S\tcomprehensive\tK35\t\tS\t2\t1.00\n", 3, "listed twice"),
    ("K35/S\tcomprehensive\tK35\t\tS\t2\t1.00\nK35.3|\tcore\tK35.3\t\tC\t2\t1.00\n", 3, "out of byte order"),
])
def test_a_bad_catalogue_row_names_its_line(rows: str, line: int, problem: str) -> None:
    with pytest.raises(DipFileError, match=problem.replace("|", r"\|").replace("(", r"\(")) as caught:
        parse_catalogue((HEADER + rows).encode(), "catalogue.tsv", CLASSES)
    assert (caught.value.file, caught.value.line) == ("catalogue.tsv", line)


@pytest.mark.parametrize("data", [b"", b"group_id,kind\n", b"group_id\tkind\n", b"\xff\xfe"])
def test_a_catalogue_needs_the_header(data: bytes) -> None:
    with pytest.raises(DipFileError):
        parse_catalogue(data, "catalogue.tsv")


def test_surgery_list_is_the_first_column_after_the_header() -> None:
    data = b"proc_code\tname\n47.0100\tappendectomy\r\n 51.2300 \tx\n\n\tno code\n"
    classes = parse_surgery_list(data, "or.tsv")
    assert classes.surgery == {"47.0100", "51.2300"}
    assert classes.digest == parse_surgery_list(data, "elsewhere").digest != parse_surgery_list(data + b"x", "").digest
    with pytest.raises(DipFileError, match="empty"):
        parse_surgery_list(b"", "or.tsv")


def test_the_digest_covers_catalogue_and_surgery_list() -> None:
    text = render_catalogue(catalogue_of([(case("I10"), "1")], 1))
    one, other = ProcedureClasses(frozenset(), "a"), ProcedureClasses(frozenset(), "b")
    assert catalogue_digest(text, one) != catalogue_digest(text, other)
    assert catalogue_digest(text, one) != catalogue_digest(text + b"\n", one)


def test_gzip_input_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"case_id": "a", "dx": ["I10"]}\n'))
    with open_lines(path) as f:
        assert [c.case_id for c in read_cases(f, str(path))] == ["a"]


def test_surgery_list_of_the_bundled_sample_when_there_is_no_chs_drg_11(tmp_path: Path) -> None:
    assert surgery_list_path(tmp_path).name == "or_procedures.tsv"
    assert "chs-drg-1.1" in str(surgery_list_path(tmp_path))
    sample = tmp_path / "grouping" / "medpay-sample"
    sample.mkdir(parents=True)
    (sample / "or_procedures.tsv").write_text("proc_code\n")
    assert surgery_list_path(tmp_path) == sample / "or_procedures.tsv"
