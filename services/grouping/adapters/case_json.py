"""Cases in the JSON-lines format of FORMAT.md ("The case"), as operators and the conformance sets write them."""

from __future__ import annotations

from typing import Any

from ..domain.case import Case


class CaseFormatError(ValueError):
    pass


def case_from_json(obj: Any) -> Case:
    """A ``Case`` from one decoded JSON object; ``CaseFormatError`` names the first bad field."""
    if not isinstance(obj, dict):
        raise CaseFormatError("a case is a JSON object")
    return Case(
        dx=_codes(obj, "dx"), px=_codes(obj, "px"),
        sex=_int(obj, "sex"), age_years=_int(obj, "age_years"), age_days=_int(obj, "age_days"),
        birth_weight_g=_int(obj, "birth_weight_g"), los_days=_int(obj, "los_days"),
        discharge_type=_text(obj, "discharge_type") or None, dept=_text(obj, "dept"))


def _codes(obj: dict[str, Any], name: str) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise CaseFormatError(f"{name} must be a list of code strings")
    return tuple(c.strip() for c in value)


def _int(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CaseFormatError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise CaseFormatError(f"{name} must be an integer, got {value!r}")


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise CaseFormatError(f"{name} must be a string, got {value!r}")
