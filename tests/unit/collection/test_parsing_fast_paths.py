"""The quick paths of parsing and quality control agree with the precise ones they short-cut: where a quick check
says "nothing to say" the precise one finds nothing, and where a quick reading answers it answers as the precise
reading. (The common list takes every quick path: the tests below check that too.)"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.domain.case_facts import _principal_first, case_facts, list_facts, parse_time, with_person
from services.collection.domain.parsing import (
    OPTIONAL_LISTS,
    PATIENT_FIELDS,
    REQUIRED_SETLINFO,
    _common_items,
    _each_item,
    _structure,
    _well_formed,
)
from services.collection.domain.qc import _item_findings, _items_in_order

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))

VALUES: list[Any] = [None, "", " ", "0", "1", "2", "3", 0, 1, 2, 7, -1, 3.0, 1.5, True, False, "abc", {}, {"a": 1},
                     [], ["x"], "0.00", "12.34", "779.76", "1.5", "12.345", "-1.00", "1,00", "1.00,2.00",
                     "12345678901.00", "１２.３４", "\u0661.\u0660\u0660", "2026-02-01", "2026-02-01 08:40:00",
                     "2026-02-30 08:40:00", "01", "14", "15", "x" * 20]
ENTRIES: list[Any] = [{}, {"a": "b"}, "x", 1, None, []]


def values() -> st.SearchStrategy[Any]:
    return st.sampled_from(VALUES)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """The sample list with a few setlinfo values and node entries replaced, dropped or added."""
    body: dict[str, Any] = copy.deepcopy(SAMPLE["input"])
    s = body["setlinfo"]
    for key in draw(st.lists(st.sampled_from([*REQUIRED_SETLINFO, *PATIENT_FIELDS, "nwbage", "nwbbirwt"]),
                             max_size=3)):
        if draw(st.booleans()):
            s.pop(key, None)
        else:
            s[key] = draw(values())
    for node in draw(st.lists(st.sampled_from(["diseinfo", *OPTIONAL_LISTS]), max_size=3)):
        entries = body.get(node)
        choice = draw(st.integers(0, 5))
        if choice == 0:
            body.pop(node, None)
        elif choice == 1:
            body[node] = draw(st.sampled_from([[], {}, "x", None, ()]))
        elif isinstance(entries, list) and entries:
            entry = draw(st.sampled_from(entries))
            if choice == 2:
                entries.append(draw(st.sampled_from(ENTRIES)))
            elif isinstance(entry, dict):
                key = draw(st.sampled_from([*sorted(entry), "amt", "med_chrgitm", "maindiag_flag", "diag_code"]))
                if choice == 3:
                    entry.pop(key, None)
                else:
                    entry[key] = draw(values())
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_where_the_quick_structure_check_passes_the_precise_one_finds_nothing(body: dict[str, Any]) -> None:
    if _well_formed(body):
        assert _structure(body) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_the_fee_entries_read_at_once_are_read_as_entry_by_entry(body: dict[str, Any]) -> None:
    entries = body.get("iteminfo")
    if not isinstance(entries, list) or not entries or _structure(body):
        return
    common = _common_items(entries)
    if common is not None:
        assert common == _each_item(entries)
    item_fen = _each_item(entries)[0]
    if _items_in_order(entries, item_fen):
        assert _item_findings(entries, item_fen) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies(), st.sampled_from([None, 1, 2]), st.sampled_from([None, 0, 1, 40]),
       st.sampled_from([None, date(2024, 12, 1), date(2025, 1, 1), date(1960, 5, 5)]))
def test_the_facts_built_at_once_are_the_facts_with_the_person(body: dict[str, Any], sex: int | None,
                                                                 age: int | None, born: date | None) -> None:
    if _structure(body):
        return
    admitted = parse_time(body["setlinfo"].get("adm_time"))
    assert list_facts(body, admitted, sex=sex, age_years=age, birth_date=born) == with_person(
        case_facts(body), sex=sex, age_years=age, birth_date=born, admitted=admitted.date() if admitted else None)


DIAGNOSES = st.fixed_dictionaries({"diag_code": st.sampled_from(["", "A01", " B02 ", 7, None]),
                                   "maindiag_flag": st.sampled_from(["1", 1, "0", None])})


@given(st.lists(st.one_of(st.sampled_from(ENTRIES), DIAGNOSES)))
def test_the_principal_codes_come_first_in_their_order(entries: list[Any]) -> None:
    rows = [i for i in entries if isinstance(i, dict) and i.get("diag_code")]
    rows.sort(key=lambda i: str(i.get("maindiag_flag")) != "1")
    assert _principal_first(entries, "diag_code", "maindiag_flag", "1") == tuple(str(i["diag_code"]).strip()
                                                                              for i in rows)


def test_the_common_list_takes_every_quick_path() -> None:
    body = copy.deepcopy(SAMPLE["input"])
    entries = body["iteminfo"]
    assert _well_formed(body)
    common = _common_items(entries)
    assert common is not None and common == _each_item(entries)
    assert _items_in_order(entries, common[0])


def test_codes_are_named_by_their_place_past_the_spelled_paths() -> None:
    from services.collection.domain.codes import list_codes

    body = {"diseinfo": [{"diag_code": f"A{i:02d}.0"} if i % 2 else {} for i in range(103)],
            "oprninfo": [{"oprn_oprt_code": "00.01", "oper_dr_code": "D1"}]}
    paths = [(f.path, f.system_id, f.code) for f in list_codes("H33010000001", body)]
    assert paths == [("fixmedins_code", "institution", "H33010000001")] + [
        (f"diseinfo[{i}].diag_code", "icd10-chs", f"A{i:02d}.0") for i in range(1, 103, 2)] + [
        ("oprninfo[0].oprn_oprt_code", "icd9cm3-chs", "00.01"), ("oprninfo[0].oper_dr_code", "doctor", "D1")]
