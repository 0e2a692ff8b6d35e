from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from medpay.common.v1 import common_pb2

from libs.common.decimals import DecimalError, parse_decimal, round_half_up
from libs.common.money import Money, MoneyError, fen_text, wire_fen


def test_parse_and_text_are_exact_inverses() -> None:
    assert Money.parse("27490.85") == Money(2749085)
    assert [Money.parse(t).fen for t in ("450", "0.5", "-3.20", "0", "-0.01")] == [45000, 50, -320, 0, -1]
    assert [str(Money(f)) for f in (2749085, 5, 0, -320, -1)] == ["27490.85", "0.05", "0.00", "-3.20", "-0.01"]


@pytest.mark.parametrize("bad", ["1.005", "abc", "NaN", "Infinity", "1e3", " 1", "+1", "", "1.", ".5", "1,000"])
def test_parse_refuses_what_is_not_money(bad: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(bad)


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(MoneyError, match="never a float"):
        Money.of_yuan(1.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1.0)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(100).allocate([0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Money(100) * 0.5  # type: ignore[operator]


def test_of_yuan_is_exact_and_refuses_more_places() -> None:
    assert Money.of_yuan(Decimal("12.3")) == Money(1230)
    assert Money.of_yuan(12) == Money(1200)
    assert Money.of_yuan("0.07") == Money(7)
    with pytest.raises(MoneyError, match="more than two"):
        Money.of_yuan(Decimal("1.005"))
    assert Money(2749085).yuan == Decimal("27490.85")


def test_arithmetic_and_sum() -> None:
    a, b = Money(250), Money(-75)
    assert a + b == Money(175) and a - b == Money(325) and -a == Money(-250) and abs(b) == Money(75)
    assert a * 3 == 3 * a == Money(750)
    assert sum([a, b, Money(1)]) == Money(176)
    assert sum([], Money.zero()) == Money(0)
    assert not Money.zero() and Money(1) and Money(1) < Money(2)


def test_proto_round_trip_and_range() -> None:
    assert Money(-2749085).to_proto() == common_pb2.Money(fen=-2749085)
    assert Money.from_proto(common_pb2.Money(fen=42)) == Money(42)
    with pytest.raises(MoneyError, match="int64"):
        Money(2**63).to_proto()


def test_allocation_by_hand() -> None:
    assert Money(1000).allocate([1, 1, 1]) == [Money(334), Money(333), Money(333)]
    assert Money(-1000).allocate([1, 1, 1]) == [Money(-334), Money(-333), Money(-333)]
    # shares 3.3333, 6.6667 -> floors 3, 6; the leftover fen goes to the larger remainder (the second part)
    assert Money(10).allocate([1, 2]) == [Money(3), Money(7)]
    assert Money(100).allocate([Decimal("0.5"), "0.25", 0, Decimal("0.25")]) == [
        Money(50), Money(25), Money(0), Money(25)]
    assert Money(5).allocate([1, 1, 1]) == [Money(2), Money(2), Money(1)]
    # weights of different scales are compared exactly: 1.5 : 1 : 0.001
    assert Money(2501).allocate([Decimal("1.5"), 1, Decimal("0.001")]) == [Money(1500), Money(1000), Money(1)]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], ["x"], [Decimal("NaN")]])
def test_allocation_refuses_bad_weights(weights: list[object]) -> None:
    with pytest.raises(MoneyError):
        Money(100).allocate(weights)  # type: ignore[arg-type]


def _largest_remainder(total: int, weights: list[Fraction]) -> list[int]:
    """An independent, straightforward implementation: Fractions, then the leftover by sorted remainders."""
    sign, amount = (-1 if total < 0 else 1), abs(total)
    exact = [amount * w / sum(weights) for w in weights]
    parts = [int(q) for q in exact]  # q >= 0, so int() is floor
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:amount - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


@given(st.integers(min_value=-10**12, max_value=10**12),
       st.lists(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
                min_size=1, max_size=30).filter(lambda ws: sum(ws) > 0))
def test_allocation_is_exact_and_agrees_with_an_independent_implementation(total: int,
                                                                           weights: list[Decimal]) -> None:
    parts = Money(total).allocate(weights)
    assert sum(p.fen for p in parts) == total
    fractions = [Fraction(w) for w in weights]
    for part, w in zip(parts, fractions, strict=True):
        assert abs(Fraction(part.fen) - total * w / sum(fractions)) < 1
    assert [p.fen for p in parts] == _largest_remainder(total, fractions)


def test_wire_amounts_read_to_fen_or_nothing() -> None:
    assert [wire_fen(v) for v in ("27490.85", "450", "0.5", "-3.20", 12, 1.5)] == [2749085, 45000, 50, -320, 1200, 150]
    assert [wire_fen(v) for v in ("4.505", "abc", "NaN", "1e99999", True, None, "1e10")] == [None] * 7


def test_fen_text_is_the_wire_form() -> None:
    assert [fen_text(f) for f in (2749085, 5, 0, -320)] == ["27490.85", "0.05", "0.00", "-3.20"]


def test_non_money_decimals() -> None:
    assert round_half_up(Decimal("1.23445"), 4) == Decimal("1.2345")
    assert round_half_up(Decimal("-2.5"), 0) == Decimal("-3")
    assert str(round_half_up(Decimal("0.5"), 6)) == "0.500000"
    assert parse_decimal("-0.25", 4, "weight") == Decimal("-0.25")
    for bad in ("1e3", "abc", "1.23456", " 1", ""):
        with pytest.raises(DecimalError, match="weight"):
            parse_decimal(bad, 4, "weight")
    with pytest.raises(DecimalError, match="decimal string"):
        parse_decimal(0.5, 4, "weight")  # type: ignore[arg-type]
