"""`medpay synth --dip`: a prefecture whose diagnosis + procedure combinations recur the way DIP base years do.

One year of the default size (50,000 lists) is generated once; the catalogue built from it at threshold 15 must
have realistic proportions, the combinations a steep frequency curve, every case type must occur, and the lists
must still be the verified CHS-DRG variants (a DIP list groups to the DRG its truth names)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from functools import cache

import pytest

from services.grouping.adapters.dip_files import load_procedure_classes
from services.grouping.adapters.scheme_files import load_code_tables
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.case import DipCase, ProcedureClasses, derive
from services.grouping.domain.engine import group_case
from services.synth.dip import dip_case
from services.synth.params import SynthParams

from ...support import shared_or_skip
from .prefecture import Run, his_run, joined_case, run_of

YEAR = 50_000


@cache
def dip_run() -> Run:
    return run_of(SynthParams(cases=YEAR, seed=21, year=2024, dip=True))


@cache
def classes() -> ProcedureClasses:
    return load_procedure_classes(shared_or_skip() / "grouping/chs-drg-1.1/or_procedures.tsv")


def cases_of(run: Run) -> list[dict[str, object]]:
    return [dip_case(request, truth) for request, truth in run.lists]


@pytest.fixture(scope="module")
def dip_cases() -> list[dict[str, object]]:
    shared_or_skip()
    return cases_of(dip_run())


def test_a_year_of_dip_data_gives_a_catalogue_with_most_cases_in_core_groups(dip_cases: list[dict[str, object]]
                                                                             ) -> None:
    builder = CatalogueBuilder(classes())
    builder.add_all((DipCase(tuple(c["dx"]), tuple(c["px"])), Decimal(str(c["total_cost"])))  # type: ignore[arg-type]
                    for c in dip_cases)
    catalogue = builder.catalogue(15)
    assert builder.cases == YEAR and builder.skipped == 0
    assert 0.70 <= catalogue.core_cases / catalogue.cases <= 0.90
    assert 300 <= len(catalogue.core) < len(catalogue)
    # A lower threshold makes more core groups and a larger core share: the tail is real, not a cliff.
    lower = builder.catalogue(5)
    assert len(lower.core) > 2 * len(catalogue.core) and lower.core_cases > catalogue.core_cases


def test_combinations_recur_a_few_thousand_of_them_with_a_steep_frequency_curve(
        dip_cases: list[dict[str, object]]) -> None:
    keys: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for c in dip_cases:
        derived = derive(DipCase(tuple(c["dx"]), tuple(c["px"])), classes())  # type: ignore[arg-type]
        assert derived is not None
        keys[derived.key] += 1
        types[derived.case_type.value] += 1
    recurring = [n for n in keys.values() if n >= 2]
    assert 2_000 <= len(recurring) <= 8_000
    ranked = sorted(keys.values(), reverse=True)
    assert sum(ranked[: len(ranked) // 10]) > 0.5 * YEAR  # the most common tenth of the keys: most cases
    assert sum(1 for n in ranked if n == 1) > 0.1 * len(ranked)  # and a tail of one-offs
    # Every case type occurs: surgery, therapeutic, diagnostic-only, conservative (therapeutic-only stays are
    # rarer, how rare depends on which DRGs the seed ranks first).
    assert set(types) == {"S", "T", "D", "C"} and min(types.values()) > 0.01 * YEAR
    assert min(types["S"], types["C"], types["D"]) > 0.05 * YEAR


def test_dip_data_recurs_more_than_the_default_mix_at_the_same_size() -> None:
    shared_or_skip()
    default_keys = {derive(DipCase(tuple(c["dx"]), tuple(c["px"])), classes()).key  # type: ignore[arg-type, union-attr]
                    for c in cases_of(his_run())[:10_000]}
    dip_keys = {derive(DipCase(tuple(c["dx"]), tuple(c["px"])), classes()).key  # type: ignore[arg-type, union-attr]
                for c in cases_of(dip_run())[:10_000]}
    assert len(dip_keys) > len(default_keys)  # more variants per DRG: a longer tail of combinations


def test_dip_lists_are_still_verified_drg_variants(dip_cases: list[dict[str, object]]) -> None:
    run = dip_run()
    codes = load_code_tables(shared_or_skip())
    finals = run.final_records()
    checked = 0
    for request, truth in run.clean()[:: 25]:
        if truth["behaviours"]:
            continue  # upcoded or cheap-admission stays are meant to differ from the honest DRG
        result = group_case(run.ref.catalogue.scheme, joined_case(request, finals[truth["setl_id"]]), codes=codes)
        assert result.drg == truth["intended_drg"], truth["setl_id"]
        checked += 1
    assert checked > 1_000


def test_dip_case_is_the_lists_codes_and_the_settled_total(dip_cases: list[dict[str, object]]) -> None:
    run = dip_run()
    diagnostic = 0
    for (request, truth), case in zip(run.lists, dip_cases, strict=True):
        body = request["input"]
        principal = next(d["diag_code"] for d in body["diseinfo"] if d["maindiag_flag"] == "1")
        assert case["case_id"] == body["setlinfo"]["setl_id"] == truth["setl_id"]
        assert case["dx"][0] == principal and len(case["dx"]) == len(body["diseinfo"])  # type: ignore[index, arg-type]
        assert case["px"] == [p["oprn_oprt_code"] for p in body["oprninfo"]]
        assert case["total_cost"] == truth["total"] and Decimal(truth["total"]) > 0
        assert str(case["dscg_date"]).startswith(truth["month"])
        diagnostic += any(str(p).startswith(("87.", "88.", "89.", "90.", "91.")) for p in case["px"])  # type: ignore[attr-defined]
    assert diagnostic > 0.05 * YEAR  # diagnostic procedures (CT, ultrasound, ECG) on many lists
