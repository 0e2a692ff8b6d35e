"""Every error FORMAT lists names the file, line and field (or the parameter), and a failed run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.settlement.domain.errors import CalculationError, InputError, ParameterError
from services.settlement.service_layer.simulation import simulate

from .builders import BASE, SMALL_HISTORY, case, past, run, write

GOOD = [case("c1", "A1", "2000"), case("c2", "B1", "4000")]


def fails(tmp: Path, cases: list[Any], history: list[Any] | None = None, **params: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        run(tmp, cases, history, **params)
    return caught.value


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("total_cost", "12.345", "not a money string"), ("fund_paid", "-1.00", "not a money string"),
    ("personal_paid", 12.5, "not a money string"), ("total_cost", "1e3", "not a money string"),
    ("total_cost", " 12.00", "not a money string"), ("total_cost", "١٢.00", "not a money string"),
    ("total_cost", "12.00\n13.00", "not a money string"), ("fund_paid", "", "not a money string"),
    ("adm_date", "2026-02-30", "not a date"), ("dscg_date", "20260305", "not a date"),
    ("level", 4, "not a level"), ("level", True, "not a level"), ("level", "03", "not a level"),
    ("case_id", 7, "must be a string"), ("group", None, "missing"),
])
def test_a_bad_case_field_is_named_with_its_file_and_line(tmp_path: Path, field: str, value: Any,
                                                          problem: str) -> None:
    bad = dict(case("c3", "A1", "10"), **{field: value})
    error = fails(tmp_path, [*GOOD, bad])
    assert (error.line, error.field_name) == (3, field)
    assert problem in error.problem and error.source.endswith("cases.jsonl")
    assert f"cases.jsonl:3: {field}: " in error.message


@pytest.mark.parametrize("field", ["case_id", "hospital", "level", "psn_no", "adm_date", "dscg_date", "group",
                                   "total_cost", "fund_paid", "personal_paid"])
def test_every_case_field_is_required(tmp_path: Path, field: str) -> None:
    bad = case("c3", "A1", "10")
    del bad[field]
    error = fails(tmp_path, [*GOOD, bad])
    assert (error.line, error.field_name, error.problem) == (3, field, "missing")


@pytest.mark.parametrize("field", ["group", "level", "dscg_date", "total_cost"])
def test_history_needs_its_four_fields_and_nothing_else(tmp_path: Path, field: str) -> None:
    minimal = past("A1", "1000")
    run(tmp_path / "ok", GOOD, [*SMALL_HISTORY, minimal])
    bad = dict(minimal)
    del bad[field]
    error = fails(tmp_path / "bad", GOOD, [*SMALL_HISTORY, bad])
    assert (error.source.endswith("history.jsonl"), error.line, error.field_name) == (True, 4, field)


def test_a_level_without_an_entry_in_levels_is_an_error_of_its_case_line(tmp_path: Path) -> None:
    error = fails(tmp_path, [*GOOD, case("c3", "A1", "10", level="2")])
    assert (error.line, error.field_name) == (3, "level") and "levels" in error.problem


def test_lines_that_are_not_json_objects(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", GOOD, SMALL_HISTORY, BASE)
    with inputs.cases.open("a") as f:
        f.write("\n[1, 2]\n")
    with pytest.raises(InputError) as caught:
        simulate(inputs, tmp_path / "out")
    assert caught.value.line == 4 and "not a JSON object" in caught.value.problem
    inputs.cases.write_text(inputs.cases.read_text().replace("[1, 2]", '{"case_id": "c9",'))
    with pytest.raises(InputError) as caught:
        simulate(inputs, tmp_path / "out")
    assert caught.value.line == 4


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", GOOD, SMALL_HISTORY, BASE)
    inputs.cases.write_text("\n" + inputs.cases.read_text() + "\n" + json.dumps(case("c1", "A1", "1")) + "\n")
    with pytest.raises(InputError) as caught:
        simulate(inputs, tmp_path / "out")
    assert (caught.value.line, caught.value.field_name) == (5, "case_id") and "duplicate" in caught.value.problem


def test_discharge_before_admission(tmp_path: Path) -> None:
    error = fails(tmp_path, [case("c1", "A1", "1", adm="2026-03-02", dscg="2026-03-01")])
    assert (error.line, error.field_name) == (1, "dscg_date")


@pytest.mark.parametrize(("params", "name"), [
    ({"method": None}, "method"), ({"method": "drg"}, "method"), ({"weights": None}, "weights"),
    ({"weights": {}}, "weights.years"), ({"budget": None}, "budget"), ({"budget": "1,000"}, "budget"),
    ({"colour": "red"}, "colour"), ({"weights": {"years": [2025], "trims": [1, 99]}}, "weights.trims"),
    ({"levels": {"3": {"coef": "1"}}}, "levels.3.coef"), ({"levels": {"4": {}}}, "levels.4"),
    ({"levels": {"3": {"coefficient": "abc"}}}, "levels.3.coefficient"),
    ({"low_ratio": "-0.4"}, "low_ratio"), ({"advance_share": "1.5"}, "advance_share"),
    ({"readmission_days": -1}, "readmission_days"), ({"readmission_days": 1.5}, "readmission_days"),
    ({"weights": {"years": [2025], "fixed": {"A1": "0.12345"}}}, "weights.fixed.A1"),
    ({"weights": {"years": [2025], "year_weights": [1, 2]}}, "weights.year_weights"),
    ({"weights": {"years": [2025], "trim_percentiles": [90, 10]}}, "weights.trim_percentiles"),
    ({"high_bands": [{"up_to": "100"}]}, "high_bands[0].k"), ({"high_bands": []}, "high_bands"),
    ({"hospitals": {"H1": {"deductions": "12.345"}}}, "hospitals.H1.deductions"),
    ({"special_cases": {"approved": "c1"}}, "special_cases.approved"),
    ({"rates": {"fixed": {"9": "1"}}}, "rates.fixed.9"), ({"scale": 0}, "scale"),
    # empty or false values of the wrong type are wrong too, not the default
    ({"special_cases": []}, "special_cases"), ({"special_cases": {"approved": ""}}, "special_cases.approved"),
    ({"rates": []}, "rates"), ({"rates": {"fixed": []}}, "rates.fixed"), ({"levels": []}, "levels"),
    ({"weights": {"years": [2025], "exclude": ""}}, "weights.exclude"),
    ({"weights": {"years": [2025], "fixed": []}}, "weights.fixed"), ({"hospitals": False}, "hospitals"),
])
def test_parameters_are_validated_by_name(tmp_path: Path, params: dict[str, Any], name: str) -> None:
    merged = {k: v for k, v in {**BASE, **params}.items() if v is not None}
    inputs = write(tmp_path / "in", GOOD, SMALL_HISTORY, merged)
    with pytest.raises(ParameterError) as caught:
        simulate(inputs, tmp_path / "out")
    assert caught.value.name == name


def test_json_numbers_in_parameters_are_read_exactly(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", GOOD, SMALL_HISTORY, BASE)
    text = inputs.params.read_text().replace('"weights": {', '"scale": 2.5, "weights": {"trim_percentiles": '
                                             '[0.1, 100], "year_weights": [0.3], ')
    inputs.params.write_text(text)
    simulate(inputs, tmp_path / "out")
    rows = (tmp_path / "out" / "cases.csv").read_text().splitlines()
    assert rows[1].split(",")[5] == "1.8750"  # RW 0.75 x scale 2.5, exactly


def test_a_failed_run_leaves_the_output_directory_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "cases.csv").write_text("earlier run\n")
    (out / "keep.txt").write_text("mine\n")
    inputs = write(tmp_path / "in", [*GOOD, case("c3", "0000", "1")], SMALL_HISTORY,
                   {**BASE, "special_cases": {"approved": ["c1"]}})  # cap floor(0.05 x 3) = 0
    with pytest.raises(CalculationError, match="cap"):
        simulate(inputs, out)
    assert sorted(p.name for p in out.iterdir()) == ["cases.csv", "keep.txt"]
    assert (out / "cases.csv").read_text() == "earlier run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_a_missing_output_directory_is_created_only_on_success(tmp_path: Path) -> None:
    inputs = write(tmp_path / "in", GOOD, SMALL_HISTORY, BASE)
    simulate(inputs, tmp_path / "new" / "out")
    assert sorted(p.name for p in (tmp_path / "new" / "out").iterdir()) == \
        ["cases.csv", "hospitals.csv", "summary.json", "weights.csv"]


def test_an_amount_beyond_what_a_column_holds_is_an_error_of_its_line_not_a_crash(tmp_path: Path) -> None:
    # 2**63 fen is one fen more than the largest amount: refused on its line, in the cases and in the history.
    too_much = "92233720368547758.08"
    error = fails(tmp_path / "c", [case("c1", "A1", "2000"), case("c2", "A1", too_much)])
    assert (error.line, error.field_name) == (2, "total_cost") and "largest amount" in error.problem
    error = fails(tmp_path / "h", [case("c1", "A1", "2000")], [*SMALL_HISTORY, past("A1", too_much)])
    assert (error.line, error.field_name) == (4, "total_cost")
    out = run(tmp_path / "ok", [case("c1", "A1", "92233720368547758.07", fund="1")], method="rate")
    assert out["cases"]["c1"]["basis"] == "92233720368547758.07"  # the largest amount itself is taken


def test_points_beyond_what_a_column_holds_fail_the_run_by_name(tmp_path: Path) -> None:
    with pytest.raises(CalculationError, match="beyond the largest figure"):
        run(tmp_path, [case("c1", "0000", "1000000")], scale="100000000000000000")
