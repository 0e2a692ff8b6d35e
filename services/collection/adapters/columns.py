"""Columns of many values sent to PostgreSQL as one text each, split there (``string_to_array(..., chr(31))``),
instead of as arrays: asyncpg checks every element of an array against three abstract base classes (0.3 us each),
which for a bulk import's chunk of 2,000 lists cost more than encoding the values; a text is one value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEP = "\x1f"
"""Between a column's values (the unit separator, ``chr(31)``, which no identity of a list or stay holds)."""


def joined(columns: Sequence[Sequence[Any]], types: Sequence[str]) -> list[str] | None:
    """Each column (of ``types``: "int" or "text") as one text of its values between ``SEP``, or None when one of
    them cannot be split back into exactly its values: a NULL, a value holding the separator, an "int" that is
    no int, or a lone empty value (an empty text splits to no value at all); those go as arrays."""
    out: list[str] = []
    for column, kind in zip(columns, types, strict=True):
        if kind == "int":
            if not all(type(v) is int for v in column):
                return None
            out.append(SEP.join(map(str, column)))
            continue
        try:
            value = SEP.join(column)
        except TypeError:  # a NULL
            return None
        if not value or value.count(SEP) != len(column) - 1:
            return None
        out.append(value)
    return out
