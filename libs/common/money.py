"""Money: ``Decimal`` yuan with two places in the domain; integer fen or decimal strings on the wire."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_YUAN = Decimal(10) ** 10
"""Larger amounts are refused when read from the wire: no single amount of a stay reaches ten billion yuan."""
_PLAIN = re.compile(r"(-?)(\d{1,10})(?:\.(\d{1,2}))?")


class MoneyError(ValueError):
    """An amount that is not a valid money value."""


def yuan(value: str | int | Decimal) -> Decimal:
    """Parse yuan from a decimal string, an int or a Decimal; more than two places is an error, not a rounding."""
    if isinstance(value, float):
        raise MoneyError("money is never a float; send a decimal string")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{value!r} is not a decimal amount") from exc
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not a finite amount")
    if amount != amount.quantize(CENT):
        raise MoneyError(f"{value!r} has more than two decimal places")
    return amount.quantize(CENT)


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def round_yuan(amount: Decimal) -> Decimal:
    """Round a computed amount (e.g. points x point value) to the fen, half up as payments are."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def wire_fen(value: Any) -> int | None:
    """An amount as hospitals send it (a decimal string of yuan, or a JSON number), in fen; ``None`` when it is
    not money: more than two places, not finite, not a number, ten billion yuan or more.

    The common "27490.85" takes a fast path without Decimal: quality control reads some sixty amounts per list.
    """
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
