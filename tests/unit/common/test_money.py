from __future__ import annotations

from decimal import Decimal

import pytest

from libs.common.money import MoneyError, from_fen, round_yuan, to_fen, yuan


def test_yuan_parses_strings_and_ints_exactly() -> None:
    assert yuan("27490.85") == Decimal("27490.85")
    assert yuan(12) == Decimal("12.00")


@pytest.mark.parametrize("bad", ["1.005", "abc", "NaN", "Infinity"])
def test_yuan_rejects_what_is_not_money(bad: str) -> None:
    with pytest.raises(MoneyError):
        yuan(bad)


def test_float_is_refused() -> None:
    with pytest.raises(MoneyError, match="never a float"):
        yuan(1.1)  # type: ignore[arg-type]


def test_fen_round_trip() -> None:
    assert to_fen(Decimal("27490.85")) == 2749085
    assert from_fen(2749085) == Decimal("27490.85")
    assert round_yuan(Decimal("1.005")) == Decimal("1.01")
