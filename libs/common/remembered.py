"""A function's answers remembered by their argument, in a bounded table: for lookups a hot path makes once per
record over a few thousand distinct keys (a diagnosis's sex, a department's grouping code, one object per day).

A hit is a plain dict lookup in C (``table[key]``); only a miss calls the function, through ``__missing__``. The
table is emptied when it reaches ``most`` keys, so a file of odd keys cannot grow it without bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Remembered(dict[K, V], Generic[K, V]):
    """``table[key]`` is ``compute(key)``, computed once while the key stays in the table."""

    def __init__(self, compute: Callable[[K], V], most: int) -> None:
        super().__init__()
        self._compute = compute
        self.most = most

    def __missing__(self, key: K) -> V:
        if len(self) >= self.most:
            self.clear()
        value = self[key] = self._compute(key)
        return value
