"""Money: ``Decimal`` yuan with two places in the domain; integer fen or decimal strings on the wire."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


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
