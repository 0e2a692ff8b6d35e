"""Why a settlement cannot be computed, said so that the operator can fix the input."""

from __future__ import annotations

from libs.common.errors import FailedPrecondition, FieldViolation, InvalidArgument


class ParameterError(InvalidArgument):
    """A policy parameter is missing, unknown or out of range; ``name`` is its dotted path (``levels.2.high_k``)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}", reason="INVALID_PARAMETER", metadata={"parameter": name},
                         violations=(FieldViolation(name, problem),))
        self.name = name
        self.problem = problem


class InputError(InvalidArgument):
    """One input record is unusable: ``source`` (a file or feed), its 1-based ``line`` and the ``field``."""

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        where = f"{source}:{line}" + (f": {field}" if field else "")
        super().__init__(f"{where}: {problem}", reason="INVALID_INPUT",
                         metadata={"source": source, "line": str(line), "field": field},
                         violations=(FieldViolation(field or f"line {line}", problem),))
        self.source = source
        self.line = line
        self.field_name = field
        self.problem = problem


class CalculationError(FailedPrecondition):
    """The inputs are well formed but the arithmetic has no answer (e.g. no total points, a standard cost of 0,
    special cases over the cap); ``subject`` names the parameter or quantity at fault."""

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"{subject}: {problem}", reason="SETTLEMENT_UNDEFINED", metadata={"subject": subject})
        self.subject = subject
