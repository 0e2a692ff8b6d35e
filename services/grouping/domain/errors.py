"""Errors raised while loading or compiling a scheme pack. Grouping itself never raises on case data."""

from __future__ import annotations


class SchemeError(ValueError):
    """A scheme pack that cannot be used, with the file and rule that are wrong."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.problem = problem
        super().__init__(f"{file}: {where}: {problem}")


class UnknownSchemeError(LookupError):
    """A request named a scheme id that is not loaded."""

    def __init__(self, scheme_id: str, known: tuple[str, ...]) -> None:
        self.scheme_id = scheme_id
        self.known = known
        super().__init__(f"unknown scheme {scheme_id!r}; loaded: {', '.join(known) or 'none'}")
