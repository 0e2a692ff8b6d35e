from __future__ import annotations

import pytest

from libs.common.errors import InvalidArgument
from libs.common.names import format_name, parse_name

CODE = "codeSystems/{code_system}/versions/{version}/codes/{code}"


def test_names_parse_and_format_inversely() -> None:
    assert parse_name("codeSystems/icd10-chs/versions/2.0/codes/I21.000x005", CODE) == (
        "icd10-chs", "2.0", "I21.000x005")
    assert format_name(CODE, "icd10-chs", "-", "I21.000") == "codeSystems/icd10-chs/versions/-/codes/I21.000"
    assert parse_name("schemes/chs-drg-1.1", "schemes/{scheme}", "scheme") == ("chs-drg-1.1",)


@pytest.mark.parametrize("bad", ["", "schemes/", "schemes/a/b", "scheme/a", "chs-drg-1.1", "schemes/a/"])
def test_other_shapes_are_invalid_arguments_naming_field_and_pattern(bad: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_name(bad, "schemes/{scheme}", "scheme")
    assert raised.value.metadata == {"field": "scheme"} and "schemes/{scheme}" in raised.value.message
