"""Properties of DIP over random data (hypothesis), against the independent implementation in ``reference``.

The alphabets are small on purpose, so that random histories have recurring keys (core groups), partial
matches and ties; they include the awkward codes: diagnostic prefixes on the surgery list, padding, empties,
codes near the chapter boundaries, codes shorter than dx4.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.grouping.adapters.dip_files import parse_catalogue, read_cases, read_history, render_catalogue
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.case import DipCase
from services.grouping.domain.dip.matching import DipGrouper, DipKind

from . import reference
from .support import CLASSES, SURGERY

DX = ["K35.300", "K35.301", "K35.900", "K35", "K3", "J18.900", "J18.000", "I10.x00", " I10.x00x001", "A17.0*", ""]
PX = ["47.0100", "51.2300", "36.0600", "00.6600", "99.1800", "99.0400", "54.2100", "86.9900", "92.2900",
      "87.0300", "88.7600", "91.9900", "90.5900x001", "87", " 99.1800", "", "  ", "B2", "a1"]

codes_px = st.lists(st.sampled_from(PX), max_size=5)
costs = st.one_of(st.integers(0, 10**7).map(lambda f: f"{f // 100}.{f % 100:02d}"),
                  st.integers(0, 10**6).map(str),
                  st.integers(0, 10**6).map(lambda m: f"{m // 1000}.{m % 1000:03d}"))


@st.composite
def history_case(draw: st.DrawFn) -> dict[str, Any]:
    dx = draw(st.lists(st.sampled_from(DX), max_size=3))
    return {"case_id": "h", "dx": dx, "px": draw(codes_px), "total_cost": draw(costs)}


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few combinations repeated many times (core groups) among random one-offs."""
    combos = draw(st.lists(history_case(), min_size=1, max_size=8))
    picks = draw(st.lists(st.integers(0, len(combos) - 1), max_size=60))
    singles = draw(st.lists(history_case(), max_size=20))
    drawn = [dict(combos[i], total_cost=draw(costs)) for i in picks] + singles
    return [dict(c, case_id=f"B{i}") for i, c in enumerate(drawn)]


def build(history: list[dict[str, Any]], threshold: int) -> bytes:
    builder = CatalogueBuilder(CLASSES)
    builder.add_all(read_history(_jsonl(history), "history.jsonl"))
    return render_catalogue(builder.catalogue(threshold))


def grouper(text: bytes) -> DipGrouper:
    return DipGrouper("dip-p", "p", parse_catalogue(text, "catalogue.tsv", CLASSES), CLASSES)


def _jsonl(cases: list[dict[str, Any]]) -> list[bytes]:
    import orjson

    return [orjson.dumps(c) + b"\n" for c in cases]


def as_case(c: dict[str, Any]) -> DipCase:
    (entry,) = read_cases(_jsonl([c]), "x")
    return entry.case


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(1, 6), st.lists(history_case(), max_size=30))
def test_agrees_with_the_independent_implementation(history: list[dict[str, Any]], threshold: int,
                                                    cases: list[dict[str, Any]]) -> None:
    text = build(history, threshold)
    expected = reference.build(history, threshold, set(SURGERY))
    assert text.decode() == expected
    g = grouper(text)
    for c in cases + history:
        r = g.group(as_case(c))
        assert (r.group, r.kind.value) == reference.group(expected, c, set(SURGERY))


@settings(max_examples=100, deadline=None)
@given(histories(), st.integers(1, 6))
def test_every_history_case_of_a_core_key_groups_back_to_its_core_group(history: list[dict[str, Any]],
                                                                        threshold: int) -> None:
    text = build(history, threshold)
    g = grouper(text)
    core = {gr.group_id for gr in g.catalogue.core}
    for c in history:
        key = reference.derived(c, set(SURGERY))
        if key is not None and key[4] in core:
            r = g.group(as_case(c))
            assert (r.group, r.kind) == (key[4], DipKind.CORE)
            assert "+".join(r.procedures) == key[4].split("|", 1)[1]


@settings(max_examples=100, deadline=None)
@given(histories(), st.integers(1, 6), st.randoms(use_true_random=False))
def test_building_is_deterministic_and_independent_of_case_order(history: list[dict[str, Any]], threshold: int,
                                                                 rnd: random.Random) -> None:
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert build(history, threshold) == build(shuffled, threshold) == build(history, threshold)


@settings(max_examples=200, deadline=None)
@given(histories(), st.lists(history_case(), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_grouping_is_deterministic_and_order_independent(history: list[dict[str, Any]],
                                                         cases: list[dict[str, Any]], rnd: random.Random) -> None:
    g = grouper(build(history, 2))
    first = [g.group(as_case(c)) for c in cases]
    order = list(range(len(cases)))
    rnd.shuffle(order)
    again = {i: g.group(as_case(cases[i])) for i in order}
    assert [again[i] for i in range(len(cases))] == first
    for c, r in zip(cases, first, strict=True):
        px = list(c["px"])
        rnd.shuffle(px)
        dx = list(c["dx"])
        first = next((i for i, code in enumerate(dx) if code.strip()), len(dx))  # the principal diagnosis
        secondary = dx[first + 1:]
        rnd.shuffle(secondary)
        # the procedures' order and duplicates, and the secondary diagnoses' order, never change a group
        same = dict(c, px=px + px[:1], dx=dx[:first + 1] + secondary)
        assert g.group(as_case(same)) == r


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 4)), min_size=1, max_size=40))
def test_mean_cost_equals_the_exact_fraction_rounded_half_up(amounts: list[tuple[int, int]]) -> None:
    written = [str(Decimal(units).scaleb(-places)) for units, places in amounts]
    builder = CatalogueBuilder(CLASSES)
    builder.add_all((DipCase(("I10.x00",)), Decimal(w)) for w in written)
    (group,) = builder.catalogue(1).groups
    from fractions import Fraction

    exact = sum((Fraction(w) for w in written), Fraction(0)) / len(written)
    assert f"{group.mean_cost}" == reference.half_up_2(exact)
