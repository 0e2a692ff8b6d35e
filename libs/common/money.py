"""Money: one exact type for every service, integer fen (1 yuan = 100 fen), never float.

``Money`` is what domain code computes with and what the wire carries (``medpay.common.v1.Money``):

    >>> price = Money.parse("27490.85")              # a decimal string of yuan, exactly, at most 2 places
    >>> price.fen, str(price), price.yuan
    (2749085, '27490.85', Decimal('27490.85'))
    >>> Money(half_up_div(2749085 * 3, 7))          # a computed amount rounded to the fen, half up (decimals)
    Money(fen=1178179)
    >>> Money(fen=1000).allocate([1, 1, 1])          # exact split, the remainder to the first parts
    [Money(fen=334), Money(fen=333), Money(fen=333)]
    >>> sum([Money(fen=5), Money(fen=7)], Money.zero())
    Money(fen=12)

Wire: ``Money.from_proto(pb)`` / ``money.to_proto()``. Files and the national interface carry yuan as decimal
strings: ``Money.parse(text)`` / ``str(money)``. The two fast module functions ``wire_fen`` and ``fen_text`` are
the same conversions for hot loops that keep plain ``int`` fen (quality control reads sixty amounts per list).
Rounding is half up, away from zero on .5 (``round_k`` of the formats): compute exactly in integers or
fractions and round once with ``libs.common.decimals.half_up_div`` (as settlement, the indicators and DIP do);
``libs.common.decimals`` has the same rules for non-money decimals (weights, points, ratios).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medpay.common.v1 import common_pb2

CENT = Decimal("0.01")
MAX_YUAN = Decimal(10) ** 10
"""Larger amounts are refused when read from the wire: no single amount of a stay reaches ten billion yuan."""
INT64_MAX = 2**63 - 1
_PLAIN = re.compile(r"(-?)(\d{1,10})(?:\.(\d{1,2}))?")
_TEXT = re.compile(r"(-?)(\d+)(?:\.(\d{1,2}))?")


class MoneyError(ValueError):
    """A value that is not an amount of money (a float, more than two places, not a number, out of range)."""


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount of yuan as whole fen. Immutable; arithmetic with other ``Money`` and ``int`` factors is
    exact; a share of an amount is ``allocate`` (exact to the fen), any other computed amount is rounded once by
    the caller (``libs.common.decimals.half_up_div``)."""

    fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.fen, int) or isinstance(self.fen, bool):
            raise MoneyError(f"fen must be an int, not {type(self.fen).__name__}")

    # -- construction --------------------------------------------------------------------------------------
    @staticmethod
    def zero() -> Money:
        return _ZERO

    @classmethod
    def of_yuan(cls, value: Decimal | int | str) -> Money:
        """Exactly ``value`` yuan; more than two decimal places is an error, never a silent rounding."""
        if isinstance(value, float):
            raise MoneyError("money is never a float; use a decimal string or Decimal")
        if isinstance(value, str):
            return cls.parse(value)
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise MoneyError(f"{value!r} is not an amount") from exc
        if not amount.is_finite():
            raise MoneyError(f"{value!r} is not a finite amount")
        fen = amount * 100
        if fen != fen.to_integral_value():
            raise MoneyError(f"{value} has more than two decimal places")
        return cls(int(fen))

    @classmethod
    def parse(cls, text: str) -> Money:
        """Yuan as a decimal string: "27490.85", "450", "-3.2". At most two places; no exponent, spaces, "+"."""
        if not isinstance(text, str):
            raise MoneyError(f"expected a decimal string of yuan, got {type(text).__name__}")
        plain = _TEXT.fullmatch(text)
        if plain is None:
            raise MoneyError(f"{text!r} is not an amount of yuan with at most two decimal places")
        sign, whole, cents = plain.groups()
        fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
        return cls(-fen if sign else fen)

    @classmethod
    def from_proto(cls, message: common_pb2.Money) -> Money:
        return cls(message.fen)

    # -- conversion ----------------------------------------------------------------------------------------
    def to_proto(self) -> common_pb2.Money:
        from medpay.common.v1 import common_pb2  # lazily: domain code using Money loads no protobuf

        if abs(self.fen) > INT64_MAX:
            raise MoneyError(f"{self} does not fit the wire's int64 fen")
        return common_pb2.Money(fen=self.fen)

    @property
    def yuan(self) -> Decimal:
        """The amount as ``Decimal`` yuan with exactly two places."""
        return Decimal(self.fen).scaleb(-2)

    def __str__(self) -> str:
        return fen_text(self.fen)

    # -- arithmetic (exact) --------------------------------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __radd__(self, other: Any) -> Money:
        if other == 0 and not isinstance(other, Money):  # sum() starts from 0
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __abs__(self) -> Money:
        return Money(abs(self.fen))

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented  # a non-integer factor needs a rounding: use times()
        return Money(self.fen * factor)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.fen != 0

    def allocate(self, weights: Sequence[Decimal | int | str]) -> list[Money]:
        """Split this amount into parts proportional to ``weights`` that add up to it exactly.

        Each part is its exact share rounded down to the fen; the fen left over go one each to the parts with
        the largest remainders of their exact shares, equal remainders to the earlier part (largest-remainder
        method: deterministic, no part is off its exact share by a fen or more). A negative amount is split as
        its absolute value and negated. Weights are exact (int, Decimal or decimal strings), at least one of
        them positive and none negative.
        """
        scaled = _integer_weights(weights)
        total = sum(scaled)
        if total <= 0:
            raise MoneyError("allocation needs at least one positive weight")
        amount = abs(self.fen)
        shares = [divmod(amount * w, total) for w in scaled]
        parts = [whole for whole, _ in shares]
        left = amount - sum(parts)
        by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))
        for index in by_remainder[:left]:
            parts[index] += 1
        sign = -1 if self.fen < 0 else 1
        return [Money(sign * p) for p in parts]


_ZERO = Money(0)


def _integer_weights(weights: Sequence[Decimal | int | str]) -> list[int]:
    """The weights as integers in one common scale (exact: Decimal weights are scaled by 10^places)."""
    exact: list[Decimal] = []
    for w in weights:
        if isinstance(w, float):
            raise MoneyError("weights are never floats; use Decimal, int or decimal strings")
        try:
            value = Decimal(w)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise MoneyError(f"weight {w!r} is not a number") from exc
        if not value.is_finite() or value < 0:
            raise MoneyError(f"weight {w!r} must be a finite number >= 0")
        exact.append(value)
    places = max((-int(v.as_tuple().exponent) for v in exact), default=0)
    return [int(v.scaleb(max(places, 0))) for v in exact]


def wire_fen(value: Any) -> int | None:
    """An amount as hospitals send it (a decimal string of yuan, or a JSON number), in fen; ``None`` when it is
    not money: more than two places, not finite, not a number, ten billion yuan or more.

    The common "27490.85" takes a fast path without Decimal: quality control reads some sixty amounts per list.
    """
    if type(value) is str and value[-3:-2] == "." and value[-2:].isdecimal() and value[:-3].isdecimal() \
            and len(value) <= 13:  # "27490.85", the form of every amount after the door: no regex
        return int(value[:-3]) * 100 + int(value[-2:])
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value)
        if plain is not None:
            sign, whole, cents = plain.groups()
            fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
            return -fen if sign else fen
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
        if not amount.is_finite() or abs(amount) >= MAX_YUAN or amount != amount.quantize(CENT):
            return None
    except InvalidOperation:  # not a number, or too many digits to quantise
        return None
    return int(amount * 100)


def fen_text(fen: int) -> str:
    """Integer fen as the wire's decimal-string yuan, e.g. 2749085 -> "27490.85" (fast: called per fee item)."""
    if fen >= 0:
        return "%d.%02d" % divmod(fen, 100)  # noqa: UP031 - the fastest formatting on this hot path
    return "-" + fen_text(-fen)
