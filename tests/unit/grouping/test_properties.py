"""Properties of grouping (hypothesis): deterministic, order of secondaries irrelevant, never raises."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from services.grouping.adapters.scheme_files import load_code_tables, load_scheme
from services.grouping.domain.case import Case
from services.grouping.domain.checks import CodeTables
from services.grouping.domain.engine import group_case
from services.grouping.domain.scheme import Scheme

from ...support import reference_dir


@cache
def scheme_and_codes() -> tuple[Scheme, list[str], list[str]]:
    ref = reference_dir()
    sid = "chs-drg-1.1" if (ref / "grouping" / "chs-drg-1.1").is_dir() else "medpay-sample"
    tables = code_tables()
    return load_scheme(ref, sid), sorted(tables.diagnoses)[::7], sorted(tables.procedures)[::7]


@cache
def code_tables() -> CodeTables:
    return load_code_tables(reference_dir())


def pick(column: int) -> st.SearchStrategy[str]:
    """A real code of the tables (drawn lazily, so the tables load once, when hypothesis first asks)."""
    return st.integers(min_value=0, max_value=10**9).map(lambda i: scheme_and_codes()[column][i % len(
        scheme_and_codes()[column])])


def dx_codes() -> st.SearchStrategy[str]:
    return pick(1)


def px_codes() -> st.SearchStrategy[str]:
    return pick(2)


cases = st.builds(
    Case,
    dx=st.lists(dx_codes(), min_size=1, max_size=8).map(tuple),
    px=st.lists(px_codes(), max_size=4).map(tuple),
    sex=st.sampled_from([1, 2, None]),
    age_years=st.one_of(st.none(), st.integers(0, 100)),
    age_days=st.one_of(st.none(), st.integers(0, 365)),
    birth_weight_g=st.one_of(st.none(), st.integers(0, 5000)),
    los_days=st.one_of(st.none(), st.integers(0, 90)),
)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_grouping_is_deterministic(case: Case) -> None:
    scheme = scheme_and_codes()[0]
    assert group_case(scheme, case) == group_case(scheme, case)


@settings(max_examples=300, deadline=None)
@given(cases, st.randoms(use_true_random=False))
def test_order_of_secondary_diagnoses_does_not_matter(case: Case, rnd: object) -> None:
    scheme = scheme_and_codes()[0]
    secondaries = list(case.dx[1:])
    rnd.shuffle(secondaries)  # type: ignore[attr-defined]
    shuffled = Case(**{**{f: getattr(case, f) for f in case.__slots__}, "dx": (case.dx[0], *secondaries)})
    a, b = group_case(scheme, case), group_case(scheme, shuffled)
    assert (a.drg, a.adrg, a.mdc) == (b.drg, b.adrg, b.mdc)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=6), st.lists(st.text(max_size=20), max_size=4),
       st.one_of(st.none(), st.integers()), st.one_of(st.none(), st.integers()))
def test_never_raises_on_arbitrary_code_strings(dx: list[str], px: list[str], sex: int | None,
                                                 age: int | None) -> None:
    scheme, _, _ = scheme_and_codes()
    tables = code_tables()
    case = Case(dx=tuple(dx), px=tuple(px), sex=sex, age_years=age)
    for codes in (None, tables):
        result = group_case(scheme, case, codes=codes, explained=True)
        assert len(result.drg) == 4
