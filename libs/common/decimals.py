"""Exact non-money decimals (weights, points, point values, ratios): ``Decimal`` in the domain, strings with a
documented number of places on the wire, rounded only where a format says so, half up (away from zero on .5).

    >>> round_half_up(Decimal("1.23445"), 4)
    Decimal('1.2345')
    >>> parse_decimal("0.85", 6, "fund_ratio")    # what a client sent: exact, at most 6 places
    Decimal('0.85')

Never ``float``: ``parse_decimal`` refuses one, and refuses more places than documented instead of rounding
what a client sent.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_DECIMAL_TEXT = re.compile(r"-?\d+(?:\.\d+)?")


class DecimalError(ValueError):
    """A value that is not an exact decimal of the documented shape; the message names the field."""


def quantum(places: int) -> Decimal:
    """``Decimal("0.0001")`` for 4 places; ``Decimal("1")`` for 0."""
    return Decimal(1).scaleb(-places)


def round_half_up(value: Decimal | int, places: int) -> Decimal:
    """``round_k(x)`` of the settlement, DIP and indicator formats: half up, away from zero on .5.

    ``round_half_up(Decimal("-2.5"), 0) == Decimal("-3")``; the result has exactly ``places`` places.
    """
    return Decimal(value).quantize(quantum(places), rounding=ROUND_HALF_UP)


def half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an integer, half up (ties away from zero), exactly: the one integer
    form of ``round_k`` for figures kept as counts of ``10**-k`` (fen, ten-thousandths of a weight or an
    indicator): ``round_k(n / d) == half_up_div(n * 10**k, d)``. ``denominator`` must be positive."""
    if denominator <= 0:
        raise ValueError("half_up_div needs a positive denominator")
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def parse_decimal(text: str, places: int, field: str) -> Decimal:
    """A decimal string from the wire or a file: plain digits with an optional "-" and at most ``places``
    places ("1.5", "-0.25"; no exponent, no spaces, no float). Raises ``DecimalError`` naming ``field``."""
    if not isinstance(text, str):
        raise DecimalError(f"{field}: expected a decimal string, got {type(text).__name__}")
    if not _DECIMAL_TEXT.fullmatch(text):
        raise DecimalError(f"{field}: {text!r} is not a decimal number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise DecimalError(f"{field}: {text!r} is not a decimal number") from exc
    _, _, fraction = text.partition(".")
    if len(fraction) > places:
        raise DecimalError(f"{field}: {text!r} has more than {places} decimal places")
    return value
