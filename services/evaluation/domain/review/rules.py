"""What a rule is: data (id, name, category, stages, severity, parameters, effective dates) plus a small pure
function of one of three scopes.

- ``STAY``: one stay and its fee details (item-level rules, data quality): runs before, during and after.
- ``PERSON``: the stays of one person at one hospital, in admission order (split admission).
- ``POPULATION``: all stays of a review (statistical rules): the population and threshold go into the evidence.

A ``RuleKind`` is the code side (the function and the parameters it accepts, with defaults and bounds); a rule
set (``ruleset.py``) instantiates kinds with ids, versions, parameters and dates, and is validated before use.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .knowledge import KnowledgeLibrary
from .model import Category, Hit, Stay
from .view import StayView


class Scope(enum.Enum):
    STAY = "stay"
    PERSON = "person"
    POPULATION = "population"


@dataclass(frozen=True)
class Context:
    """What rules may read besides the stays: the knowledge library and, when known, the code tables."""

    knowledge: KnowledgeLibrary
    diagnoses: frozenset[str] | None = None
    procedures: frozenset[str] | None = None


Params = Mapping[str, Any]
StayCheck = Callable[[StayView, Context, Params], Iterable[Hit]]
GroupCheck = Callable[[Sequence[Stay], Context, Params], Iterable[Hit]]


class ParamType(enum.Enum):
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    CODES = "codes"      # a list of strings (diagnosis-code prefixes, ...)
    CHOICES = "choices"  # a list of strings, each one of ``choices``
    CHOICE = "choice"    # one string of ``choices``


@dataclass(frozen=True)
class Param:
    """One parameter a rule kind accepts; values are checked and converted by ``convert``."""

    type: ParamType
    default: Any
    doc: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: frozenset[str] = frozenset()

    def convert(self, value: Any) -> Any:
        """The checked value (int, Decimal, bool or tuple of str); ``ValueError`` says why it is refused."""
        if self.type is ParamType.BOOL:
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, got {value!r}")
            return value
        if self.type is ParamType.CHOICE:
            if value not in self.choices:
                raise ValueError(f"must be one of {', '.join(sorted(self.choices))}, got {value!r}")
            return value
        if self.type in (ParamType.CODES, ParamType.CHOICES):
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
                raise ValueError(f"must be a list of non-empty strings, got {value!r}")
            items = tuple(dict.fromkeys(v.strip() for v in value))
            unknown = [v for v in items if self.choices and v not in self.choices]
            if unknown:
                raise ValueError(f"{', '.join(unknown)} not among {', '.join(sorted(self.choices))}")
            return items
        return self._number(value)

    def _number(self, value: Any) -> int | Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise ValueError(f"must be a number, got {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"must be a number, got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"must be finite, got {value!r}")
        if self.type is ParamType.INT and number != number.to_integral_value():
            raise ValueError(f"must be a whole number, got {value!r}")
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"must be at least {self.minimum}, got {value!r}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"must be at most {self.maximum}, got {value!r}")
        return int(number) if self.type is ParamType.INT else number


def integer(default: int, doc: str, low: int | None = None, high: int | None = None) -> Param:
    return Param(ParamType.INT, default, doc, None if low is None else Decimal(low),
                 None if high is None else Decimal(high))


def decimal(default: str, doc: str, low: str | None = None, high: str | None = None) -> Param:
    return Param(ParamType.DECIMAL, Decimal(default), doc, None if low is None else Decimal(low),
                 None if high is None else Decimal(high))


@dataclass(frozen=True)
class RuleKind:
    """The code of a rule: its category, scope, accepted parameters and function (exactly one of the two)."""

    name: str
    category: Category
    scope: Scope
    doc: str
    params: Mapping[str, Param] = field(default_factory=dict)
    check_stay: StayCheck | None = None
    check_group: GroupCheck | None = None

    def defaults(self) -> dict[str, Any]:
        return {name: spec.default for name, spec in self.params.items()}
