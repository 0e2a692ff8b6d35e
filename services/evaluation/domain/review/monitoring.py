"""Monitoring of rules (PRIMER section 6): activity and precision per rule and version, so that operators can
retire noisy rules. Exact decimal arithmetic, half up, to the places the API documents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def activity(flags: int, lists: int) -> str:
    """Flags per 1,000 lists, 1 decimal place ("0.0" when no list was reviewed)."""
    if lists <= 0:
        return "0.0"
    return str((Decimal(flags) * 1000 / Decimal(lists)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def precision(confirmed: int, decided: int) -> str:
    """Confirmed / decided, 3 decimal places; "" while nothing is decided."""
    if decided <= 0:
        return ""
    return str((Decimal(confirmed) / Decimal(decided)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))
