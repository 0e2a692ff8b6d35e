"""The knowledge library file: CONTRACT's header exactly, every bad cell named with its line."""

from __future__ import annotations

import pytest

from services.evaluation.domain.review.knowledge import KnowledgeError

from .builders import HEADER, ITEMS, knowledge


def test_the_library_reads_limits_and_makes_exclusive_pairs_symmetric() -> None:
    lib = knowledge()
    psa, half = lib.get("PSA"), lib.get("HALF")
    assert psa is not None and psa.sex_limit == 1 and psa.max_daily_cnt == 1_000_000
    assert half is not None and half.max_daily_cnt == 1_500_000
    assert lib.exclusive["LIVER"] == {"ALT", "TBIL"} and lib.exclusive["ALT"] == {"LIVER"}
    assert len(lib) == 10


def test_the_version_is_the_content_digest_unless_given() -> None:
    from services.evaluation.adapters.review.files import knowledge_from_text

    a, b = knowledge_from_text(ITEMS), knowledge_from_text(ITEMS)
    assert a.version == b.version and len(a.version) == 12
    assert knowledge_from_text(ITEMS.replace("55.00", "56.00")).version != a.version


@pytest.mark.parametrize(("row", "problem"), [
    ("X,n,drug,09,1.00,3,,,,", "sex_limit '3'"),
    ("X,n,pill,09,1.00,,,,,", "kind 'pill'"),
    ("X,n,drug,15,1.00,,,,,", "med_chrgitm_type '15'"),
    ("X,n,drug,09,abc,,,,,", "price 'abc'"),
    ("X,n,drug,09,1.00,,20,10,,", "min_age 20 is above max_age 10"),
    ("X,n,drug,09,1.00,,x,,,", "min_age 'x'"),
    ("X,n,drug,09,1.00,,,,0,", "max_daily_cnt must be positive"),
    ("X,n,drug,09,1.00,,,,,X", "lists the item itself"),
    (",n,drug,09,1.00,,,,,", "code is empty"),
    ("X,n,drug,09", "4 columns"),
])
def test_every_bad_cell_is_named_with_its_line(row: str, problem: str) -> None:
    with pytest.raises(KnowledgeError) as raised:
        knowledge(HEADER + "A,n,drug,09,1.00,,,,,\n" + row + "\n")
    assert any(p.startswith("line 3:") and problem in p for p in raised.value.problems), raised.value.problems


def test_the_header_must_be_contracts_and_codes_unique() -> None:
    with pytest.raises(KnowledgeError, match="header must be exactly"):
        knowledge("code,name\nA,b\n")
    with pytest.raises(KnowledgeError, match="appears twice"):
        knowledge(HEADER + "A,n,drug,09,1.00,,,,,\nA,n,drug,09,1.00,,,,,\n")


def test_the_codes_a_sex_or_an_age_may_not_be_charged_are_those_the_item_limits_say() -> None:
    library = knowledge()
    assert library.not_for_sex(1) == {"HPV"} and library.not_for_sex(2) == {"PSA"}
    assert library.not_for_age(10) == {"ADULT"} and library.not_for_age(30) == {"PED"}
    assert library.not_for_age(80) == {"PED", "ADULT"} and library.not_for_age(16) == {"PED", "ADULT"}
    assert library.exclusive_codes == {"LIVER", "ALT", "TBIL"}


def test_a_stay_is_judged_by_the_version_in_force_on_its_date() -> None:
    from datetime import date

    from services.evaluation.adapters.review.files import knowledge_from_text
    from services.evaluation.domain.review.knowledge import KnowledgeShelf

    v1 = knowledge_from_text(ITEMS, version="v1", effective_from=date(2025, 1, 1))
    v2 = knowledge_from_text(ITEMS.replace("55.00", "56.00"), version="v2", effective_from=date(2025, 7, 1))
    shelf = KnowledgeShelf((v2, v1))  # imported in any order
    assert [shelf.in_force(date(2024, 12, 31)), shelf.in_force(date(2025, 1, 1)), shelf.in_force(date(2025, 6, 30)),
            shelf.in_force(date(2025, 7, 1)), shelf.in_force(None)] == [None, v1, v1, v2, v2]
    assert KnowledgeShelf().in_force(date(2025, 1, 1)) is None
    with pytest.raises(ValueError, match="effective date"):
        KnowledgeShelf((knowledge_from_text(ITEMS),))
