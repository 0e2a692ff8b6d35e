"""Fee details (2301) and the knowledge library synth writes, read as CONTRACT.md words them, independently of
the review engine: details add up to the list, every line is cnt x pric inside the stay, and a stay breaks an
item rule of the contract exactly when the truth says a behaviour was planted."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.coding.domain.shapes import infer_system
from services.synth.generator import Generator
from services.synth.items import catalogue, items_csv
from services.synth.params import ItemBehaviourRates, SynthParams
from services.synth.sources import load_reference
from services.synth.writer import emissions

from ...support import reference_dir
from .prefecture import his_run, rich_run, run_of, scheme_id

ITEM_BEHAVIOURS = set(ItemBehaviourRates().__dict__)


def _library() -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(items_csv(catalogue()).decode("utf-8")))
    assert rows.fieldnames == ["code", "name", "kind", "med_chrgitm_type", "price", "sex_limit", "min_age",
                               "max_age", "max_daily_cnt", "exclusive_with"]
    return {r["code"]: r for r in rows}


def _by_stay(fees: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, str]]]:
    out = {}
    for request in fees:
        lines = request["input"]["feedetail"]
        assert request["infno"] == "2301" and len(request["msgid"]) == 30 and lines
        assert len({line["mdtrt_id"] for line in lines}) == 1
        out[(request["fixmedins_code"], lines[0]["mdtrt_id"])] = lines
    return out


def _violations(lines: list[dict[str, str]], sex: int, age: int, library: dict[str, dict[str, str]]) -> set[str]:
    """The item categories of CONTRACT.md a stay breaks, straight from the contract's words."""
    found = set()
    per_day: Counter[tuple[str, str]] = Counter()
    codes_by_day: dict[str, set[str]] = defaultdict(set)
    charges: Counter[tuple[str, str, str, str]] = Counter()
    for line in lines:
        item, code, day = library[line["med_list_codg"]], line["med_list_codg"], line["fee_ocur_time"][:10]
        if item["sex_limit"] and int(item["sex_limit"]) != sex:
            found.add("RESTRICTED_SEX")
        if (item["min_age"] and age < int(item["min_age"])) or (item["max_age"] and age > int(item["max_age"])):
            found.add("RESTRICTED_AGE")
        per_day[(day, code)] += int(line["cnt"])
        codes_by_day[day].add(code)
        charges[(code, line["fee_ocur_time"], line["cnt"], line["pric"])] += 1
    if any(n > 1 for n in charges.values()):
        found.add("DUPLICATE_CHARGE")
    if any(library[code]["max_daily_cnt"] and n > Decimal(library[code]["max_daily_cnt"])
           for (_, code), n in per_day.items()):
        found.add("EXCESSIVE_QUANTITY")
    for codes in codes_by_day.values():
        if any(set(filter(None, library[c]["exclusive_with"].split(";"))) & codes for c in codes):
            found.add("UNBUNDLED_CHARGE")
    return found


def test_the_library_is_a_few_hundred_well_formed_items_with_limits() -> None:
    library = _library()
    assert 200 <= len(library) <= 1000
    assert all(infer_system(code) in {"drug", "service-item", "consumable"} for code in library)
    assert {r["kind"] for r in library.values()} == {"drug", "service", "consumable"}
    assert sum(bool(r["sex_limit"]) for r in library.values()) >= 10
    assert sum(bool(r["min_age"] or r["max_age"]) for r in library.values()) >= 10
    assert sum(bool(r["exclusive_with"]) for r in library.values()) >= 5
    assert all(c in library for r in library.values() for c in filter(None, r["exclusive_with"].split(";")))


def test_details_add_up_to_each_fee_category_of_a_rich_list() -> None:
    run = rich_run()
    details = _by_stay(run.fees)
    assert len(details) == len(run.lists)
    for request, truth in run.lists:
        s = request["input"]["setlinfo"]
        lines = details[(request["fixmedins_code"], s["mdtrt_id"])]
        by_category: Counter[str] = Counter()
        for line in lines:
            by_category[line["med_chrgitm_type"]] += Decimal(line["det_item_fee_sumamt"])
        listed = {i["med_chrgitm"]: Decimal(i["amt"]) for i in request["input"]["iteminfo"]}
        assert {c: a for c, a in by_category.items() if a} == {c: a for c, a in listed.items() if a}, truth["setl_id"]


def test_details_of_his_lists_add_up_to_the_records_total_and_each_line_is_cnt_times_pric() -> None:
    run = his_run()
    details, records, library = _by_stay(run.fees), run.final_records(), _library()
    for request, truth in run.lists[:6000]:
        s = request["input"]["setlinfo"]
        lines = details[(request["fixmedins_code"], s["mdtrt_id"])]
        assert [line["feedetl_sn"] for line in lines] == [str(n) for n in range(1, len(lines) + 1)]
        total = sum(Decimal(line["det_item_fee_sumamt"]) for line in lines)
        assert total == Decimal(records[truth["setl_id"]]["setlinfo"]["medfee_sumamt"])
        for line in lines:
            assert Decimal(line["cnt"]) * Decimal(line["pric"]) == Decimal(line["det_item_fee_sumamt"]) > 0
            assert line["med_chrgitm_type"] == library[line["med_list_codg"]]["med_chrgitm_type"]
            assert line["psn_no"] == truth["psn_no"]
        if not truth["faults"]:
            admitted, discharged = (datetime.strptime(s[k], "%Y-%m-%d %H:%M:%S") for k in ("adm_time", "dscg_time"))
            assert all(admitted <= datetime.strptime(line["fee_ocur_time"], "%Y-%m-%d %H:%M:%S") <= discharged
                       for line in lines), truth["setl_id"]


def test_a_stay_breaks_an_item_rule_exactly_when_a_behaviour_was_planted() -> None:
    run, library = his_run(), _library()
    details = _by_stay(run.fees)
    planted: Counter[str] = Counter()
    for request, truth in run.lists:
        lines = details[(request["fixmedins_code"], request["input"]["setlinfo"]["mdtrt_id"])]
        expected = ITEM_BEHAVIOURS & set(truth["behaviours"])
        planted.update(expected)
        assert _violations(lines, truth["sex"], truth["age_years"], library) == expected, truth["setl_id"]
    rates = ItemBehaviourRates().__dict__
    for behaviour, rate in rates.items():  # each planted about as often as its rate says
        assert 0.5 * rate * len(run.lists) <= planted[behaviour] <= 1.5 * rate * len(run.lists), behaviour


def test_limited_items_are_charged_to_patients_they_fit_and_repeats_abound_on_clean_stays() -> None:
    run, library = his_run(), _library()
    details = _by_stay(run.fees)
    limited = repeated = 0
    for request, truth in run.lists[:5000]:
        if truth["behaviours"]:
            continue
        lines = details[(request["fixmedins_code"], request["input"]["setlinfo"]["mdtrt_id"])]
        limited += any(library[ln["med_list_codg"]]["sex_limit"] or library[ln["med_list_codg"]]["max_age"]
                       for ln in lines)
        repeated += len({(ln["med_list_codg"], ln["fee_ocur_time"][:10]) for ln in lines}) < len(lines)
    assert limited > 100 and repeated > 1000  # the traps a careless rule would fall into


def test_lists_are_the_same_with_or_without_fee_details_and_details_are_reproducible() -> None:
    params = SynthParams(cases=300, months=1, seed=5, scheme=scheme_id())
    ref, _ = load_reference(params, reference_dir())
    with_fees = list(emissions(Generator(params, ref), fees=True))
    again = list(emissions(Generator(params, ref), fees=True))
    without = list(emissions(Generator(replace(params, fee_details=False), ref), fees=True))
    assert with_fees == again
    assert [line for kind, line, _ in with_fees if kind != "fees"] == [line for _, line, _ in without]
    assert sum(kind == "fees" for kind, _, _ in with_fees) == sum(kind == "list" for kind, _, _ in without)
    small = run_of(replace(params, fee_details=False))
    assert small.fees == [] and all(not ITEM_BEHAVIOURS & set(t["behaviours"]) for _, t in small.lists)
