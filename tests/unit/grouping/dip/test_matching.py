"""Grouping a case: exact key, largest core subset (ties by byte order), comprehensive, ungroupable."""

from __future__ import annotations

from services.grouping.domain.dip.case import DipCase
from services.grouping.domain.dip.matching import DipKind

from .support import case, grouper_of

BASE = [
    (case("K80.100", "51.2300"), "1"),  # K80.1|51.2300
    (case("K80.100", "51.2300", "99.1800"), "1"),  # K80.1|51.2300+99.1800
    (case("K80.100", "51.2300", "54.2100"), "1"),  # K80.1|51.2300+54.2100
    (case("K80.100"), "1"),  # K80.1| (no procedures: never a partial match)
    (case("K80.200", "99.1800", "51.2300", "54.2100", "54.5900"), "1"),  # other dx4, larger set
]
GROUPER = grouper_of(BASE, 1)


def grouped(c: DipCase) -> tuple[str, str, tuple[str, ...]]:
    r = GROUPER.group(c)
    assert (r.catalogue_id, r.catalogue_version) == ("dip-test", "1+test")
    return r.group, r.kind.value, r.procedures


def test_exact_key_is_core() -> None:
    assert grouped(case("K80.100x002", "99.1800", "51.2300", "88.7600")) == (
        "K80.1|51.2300+99.1800", "core", ("51.2300", "99.1800"))
    assert grouped(case("K80.1")) == ("K80.1|", "core", ())
    assert grouped(case("K80.1", "87.4400")) == ("K80.1|", "core", ())  # P is empty: the C core group


def test_duplicates_in_the_procedure_list_still_match_exactly() -> None:
    assert grouped(case("K80.1", "51.2300", "51.2300", " 51.2300")) == ("K80.1|51.2300", "core", ("51.2300",))


def test_partial_match_takes_the_largest_subset() -> None:
    assert grouped(case("K80.1", "51.2300", "99.1800", "99.0400")) == (
        "K80.1|51.2300+99.1800", "core_partial", ("51.2300", "99.1800"))


def test_a_tie_between_partial_matches_takes_the_smallest_group_id_in_byte_order() -> None:
    # {51.2300, 99.1800} and {51.2300, 54.2100} both fit, both have two procedures
    r = GROUPER.group(case("K80.1", "99.1800", "54.2100", "51.2300"))
    assert (r.group, r.kind) == ("K80.1|51.2300+54.2100", DipKind.CORE_PARTIAL)
    tie = grouper_of([(case("A01.0", "b"), "1"), (case("A01.0", "B"), "1"), (case("A01.0", "a"), "1")], 1)
    assert tie.group(case("A01.0", "b", "a", "B", "c")).group == "A01.0|B"


def test_a_partial_match_stays_within_its_dx4_and_needs_a_subset() -> None:
    # K80.2's set is not a subset here, and K80.1's groups are another dx4
    assert grouped(case("K80.200", "51.2300", "99.1800")) == ("K80/S", "comprehensive", ())
    assert grouped(case("K80.1", "99.1800")) == ("K80/T", "comprehensive", ())


def test_a_core_group_without_procedures_is_never_a_partial_match() -> None:
    assert grouped(case("K80.1", "99.0400")) == ("K80/T", "comprehensive", ())


def test_comprehensive_whether_or_not_the_catalogue_lists_it() -> None:
    assert "K81/D" not in GROUPER.groups
    assert grouped(case("K81.000", "88.7600")) == ("K81/D", "comprehensive", ())
    assert grouped(case("K81.000")) == ("K81/C", "comprehensive", ())
    assert grouped(case("K81.000", "47.0100")) == ("K81/S", "comprehensive", ())


def test_without_a_principal_diagnosis_the_case_is_ungroupable() -> None:
    assert grouped(DipCase((), ("51.2300",))) == ("0000", "ungroupable", ())
    assert grouped(DipCase(("", "  "))) == ("0000", "ungroupable", ())


def test_the_principal_diagnosis_is_the_first_non_empty_one() -> None:
    assert grouped(case(["", "K80.100"], "51.2300")) == ("K80.1|51.2300", "core", ("51.2300",))


def test_group_all_keeps_input_order() -> None:
    cases = [case("K80.1"), DipCase(()), case("K80.1", "51.2300")]
    assert [r.group for r in GROUPER.group_all(cases)] == ["K80.1|", "0000", "K80.1|51.2300"]


def test_explanations_say_each_step() -> None:
    assert GROUPER.explain(DipCase(())) == ("no principal diagnosis (dx empty after trimming): 0000, ungroupable",)
    partial = GROUPER.explain(case("K80.100", "99.0400", "51.2300", "88.7600"))
    assert partial == (
        "principal diagnosis K80.1 (dx4), K80 (dx3)",
        "procedures: 99.0400 therapeutic, 51.2300 surgery, 88.7600 diagnostic",
        "P = 51.2300+99.0400; type S; key K80.1|51.2300+99.0400",
        "no core group K80.1|51.2300+99.0400; the largest core subset of dx4 K80.1 is K80.1|51.2300 "
        "(1 of 2 procedures)")
    assert GROUPER.explain(case("K80.1"))[-1] == "the key is core group K80.1|"
    assert GROUPER.explain(case("K81.0", "88.7600"))[-1] == (
        "no core group of dx4 K81.0 fits: comprehensive K81/D (not in the catalogue: settled by item)")
