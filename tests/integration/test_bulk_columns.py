"""A bulk import sends a chunk's identities to its statements as one text per column, split by PostgreSQL (else as
arrays): both forms must give PostgreSQL the same rows, and the arrays must be taken whenever a text could not
carry the column exactly."""

from __future__ import annotations

import random
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from services.collection.adapters import staging

TYPES = ("int", "text", "text", "text")
NAMES = "n, a, b, c"
ARRAYS = staging._from_arrays(TYPES, NAMES)
TEXTS = staging._from_texts(TYPES, NAMES)
ALPHABET = ["", "a", "Z", "0", " ", ",", "{", "}", '"', "\\", "'", "\n", "\t", "é", "病", "NULL", "\x1e", "\x7f"]


def _rows(rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    def text() -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 5)))

    return [(rng.randrange(-10, 10_000), text(), text(), text()) for _ in range(count)]


async def _selected(conn: Any, statement: str, values: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(statement, *values)]


async def test_rows_sent_as_texts_are_the_rows_sent_as_arrays(database_url: str) -> None:
    rng = random.Random(13)
    conn = await asyncpg.connect(database_url)
    try:
        for count in (1, 2, 3, 50, 700):
            for _ in range(8):
                rows = _rows(rng, count)
                statement, values = staging._columns(rows, TYPES, ARRAYS, TEXTS)
                expected = await _selected(conn, ARRAYS, [list(c) for c in zip(*rows, strict=True)])
                assert expected == rows
                assert await _selected(conn, statement, values) == expected
                lone_empty = count == 1 and "" in rows[0][1:]  # splits to no value: sent as an array
                assert (statement == TEXTS) is not lone_empty
    finally:
        await conn.close()


async def test_columns_a_text_cannot_carry_go_as_arrays(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        cases = [
            [(1, "a", "b\x1fc", "d")],  # the separator in a value
            [(1, "a", "b", "c"), (2, "x\x1f", "y", "z")],
            [(1, "a", None, "c")],  # a NULL
            [(1, "", "b", "c")],  # one row, an empty value (an empty text splits to no value at all)
            [(True, "a", "b", "c")],  # not an int
        ]
        for rows in cases:
            statement, values = staging._columns(rows, TYPES, ARRAYS, TEXTS)
            assert statement == ARRAYS, rows
            if rows[0][0] is not True:
                assert await _selected(conn, statement, values) == rows
        statement, values = staging._columns([(1, "", "", ""), (2, "", "", "")], TYPES, ARRAYS, TEXTS)
        assert statement == TEXTS
        assert await _selected(conn, statement, values) == [(1, "", "", ""), (2, "", "", "")]
    finally:
        await conn.close()
