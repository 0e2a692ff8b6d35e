"""A remembered lookup computes each key's answer once, answers as the function does, and stays bounded."""

from __future__ import annotations

from libs.common.remembered import Remembered


def test_each_key_is_computed_once_and_answers_as_the_function() -> None:
    asked: list[str] = []

    def shout(word: str) -> str | None:
        asked.append(word)
        return word.upper() if word else None

    table: Remembered[str, str | None] = Remembered(shout, most=10)
    assert [table["a"], table["b"], table["a"], table[""], table[""]] == ["A", "B", "A", None, None]
    assert asked == ["a", "b", ""]  # None answers are remembered too


def test_the_table_is_emptied_at_its_bound() -> None:
    table: Remembered[int, int] = Remembered(lambda n: n * n, most=3)
    for n in range(10):
        assert table[n] == n * n
        assert len(table) <= 3
