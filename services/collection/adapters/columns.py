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


def unnested_texts(params: dict[str, Sequence[str]]) -> tuple[str, dict[str, Any]]:
    """``unnest(...)`` over text columns given as named parameters (a SQLAlchemy ``text`` statement's), each sent
    as one text split by PostgreSQL, or all as arrays where one cannot be (``joined``); and the parameters."""
    names = list(params)
    texts = joined([params[name] for name in names], ["text"] * len(names))
    if texts is None:
        return (f"unnest({', '.join(f'CAST(:{name} AS text[])' for name in names)})",
                {name: list(values) for name, values in params.items()})
    return (f"unnest({', '.join(f'string_to_array(CAST(:{name} AS text), chr(31))' for name in names)})",
            dict(zip(names, texts, strict=True)))
