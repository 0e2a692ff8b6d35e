"""Every value FORMAT.md derives from a case: dx4/dx3, procedure classes, P, the type and the key."""

from __future__ import annotations

import pytest

from services.grouping.domain.dip.case import (
    CaseType,
    DipCase,
    ProcedureClass,
    derive,
    principal_diagnosis,
    procedure_set_type,
)

from .support import CLASSES, case


def key(c: DipCase) -> str:
    d = derive(c, CLASSES)
    assert d is not None
    return d.key


def test_dx4_is_the_first_five_characters_and_dx3_the_first_three() -> None:
    d = derive(case("K35.300x001", "47.0100"), CLASSES)
    assert d is not None
    assert (d.dx4, d.dx3, d.key, d.comprehensive_group) == ("K35.3", "K35", "K35.3|47.0100", "K35/S")


@pytest.mark.parametrize(("principal", "dx4", "dx3"), [
    ("K35", "K35", "K35"),  # shorter than five characters: all of it
    ("K3", "K3", "K3"),
    ("K35.", "K35.", "K35"),
    ("W02.x00", "W02.x", "W02"),
    ("A17.0*", "A17.0", "A17"),
    ("中文诊断编码", "中文诊断编", "中文诊"),  # characters, not bytes
])
def test_short_and_unusual_principal_diagnoses(principal: str, dx4: str, dx3: str) -> None:
    d = derive(case(principal), CLASSES)
    assert d is not None and (d.dx4, d.dx3) == (dx4, dx3)


def test_codes_are_trimmed_and_empty_strings_dropped() -> None:
    assert key(case(["", "  ", " K35.300 ", "J18.900"], " 47.0100 ", "", "  ")) == "K35.3|47.0100"
    assert principal_diagnosis(["", " ", "\tI10.x00"]) == "I10.x00"


@pytest.mark.parametrize("dx", [[], [""], ["  ", ""]])
def test_no_principal_diagnosis(dx: list[str]) -> None:
    assert derive(DipCase(tuple(dx), ("47.0100",)), CLASSES) is None


@pytest.mark.parametrize(("code", "expected"), [
    ("86.9900", ProcedureClass.THERAPEUTIC),  # the chapter just before the diagnostic ones
    ("87.0100", ProcedureClass.DIAGNOSTIC),
    ("87.", ProcedureClass.DIAGNOSTIC),
    ("88.3800x001", ProcedureClass.DIAGNOSTIC),
    ("89.5200", ProcedureClass.DIAGNOSTIC),
    ("90.5900", ProcedureClass.DIAGNOSTIC),
    ("91.9900", ProcedureClass.DIAGNOSTIC),
    ("92.2900", ProcedureClass.THERAPEUTIC),  # the chapter just after
    ("87", ProcedureClass.THERAPEUTIC),  # the prefix includes the dot
    ("870.1", ProcedureClass.THERAPEUTIC),
    ("9.5900", ProcedureClass.THERAPEUTIC),
    ("x87.01", ProcedureClass.THERAPEUTIC),
    ("87.0300", ProcedureClass.DIAGNOSTIC),  # on the surgery list, but a diagnostic prefix wins
    ("90.5900x001", ProcedureClass.DIAGNOSTIC),
    ("47.0100", ProcedureClass.SURGERY),
    ("47.0100x001", ProcedureClass.THERAPEUTIC),  # exact codes only: no prefix matching of the surgery list
    ("99.1800", ProcedureClass.THERAPEUTIC),
])
def test_procedure_classes_at_the_chapter_boundaries(code: str, expected: ProcedureClass) -> None:
    assert CLASSES.classify(code) is expected


def test_p_drops_diagnostic_procedures_and_duplicates_and_sorts_in_byte_order() -> None:
    d = derive(case("K80.100", "51.2300", "88.7600", "99.1800", "51.2300", " 51.2300", "01.2411", "01.24x"),
               CLASSES)
    assert d is not None
    assert d.procedures == ("01.2411", "01.24x", "51.2300", "99.1800")
    assert d.key == "K80.1|01.2411+01.24x+51.2300+99.1800"


def test_byte_order_is_not_locale_or_case_insensitive_order() -> None:
    d = derive(case("K80.100", "a1", "B2", "Z0", "_9", "é1"), CLASSES)
    assert d is not None and d.procedures == ("B2", "Z0", "_9", "a1", "é1")


def test_principal_procedure_is_not_special_for_the_key() -> None:
    assert key(case("K80.1", "99.1800", "51.2300")) == key(case("K80.1", "51.2300", "99.1800"))


@pytest.mark.parametrize(("px", "expected"), [
    (("51.2300", "99.1800"), CaseType.SURGERY),
    (("88.7600", "51.2300"), CaseType.SURGERY),
    (("99.1800",), CaseType.THERAPEUTIC),
    (("99.1800", "88.7600"), CaseType.THERAPEUTIC),
    (("88.7600",), CaseType.DIAGNOSTIC),
    (("87.0300",), CaseType.DIAGNOSTIC),  # the listed diagnostic code is not surgery
    (("88.7600", "88.7600", " "), CaseType.DIAGNOSTIC),
    ((), CaseType.CONSERVATIVE),
    (("", "  "), CaseType.CONSERVATIVE),
])
def test_case_type(px: tuple[str, ...], expected: CaseType) -> None:
    d = derive(DipCase(("K80.100",), px), CLASSES)
    assert d is not None and d.case_type is expected


def test_key_without_procedures_ends_in_the_bar_even_with_diagnostic_ones() -> None:
    assert key(case("J18.900")) == "J18.9|"
    assert key(case("J18.900", "87.4400", "89.5200")) == "J18.9|"


def test_the_type_a_procedure_set_implies() -> None:
    assert procedure_set_type(("51.2300", "99.1800"), CLASSES) is CaseType.SURGERY
    assert procedure_set_type(("99.1800",), CLASSES) is CaseType.THERAPEUTIC
    assert procedure_set_type((), CLASSES) is CaseType.CONSERVATIVE
