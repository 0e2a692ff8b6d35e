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


def test_wire_amounts_read_to_fen_or_nothing() -> None:
    from libs.common.money import wire_fen

    assert [wire_fen(v) for v in ("27490.85", "450", "0.5", "-3.20", 12, 1.5)] == [2749085, 45000, 50, -320, 1200, 150]
    assert [wire_fen(v) for v in ("4.505", "abc", "NaN", "1e99999", True, None, "1e10")] == [None] * 7


def test_fen_text_is_the_wire_form() -> None:
    from libs.common.money import fen_text

    assert [fen_text(f) for f in (2749085, 5, 0, -320)] == ["27490.85", "0.05", "0.00", "-3.20"]
