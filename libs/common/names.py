"""Resource names (AIP-122): parse ``collection/{id}/...`` patterns from requests with clear errors.

    scheme_id, = parse_name("schemes/chs-drg-1.1", "schemes/{scheme}", "scheme")
    system, version, code = parse_name(request.name, "codeSystems/{code_system}/versions/{version}/codes/{code}")
"""

from __future__ import annotations

import re
from functools import cache

from .errors import InvalidArgument

_VARIABLE = re.compile(r"\{(\w+)\}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = _VARIABLE.split(pattern)
    regex = "".join(re.escape(p) if i % 2 == 0 else "([^/]+)" for i, p in enumerate(parts))
    return re.compile(regex)


def parse_name(name: str, pattern: str, field: str = "name") -> tuple[str, ...]:
    """The ids of ``name`` in the order ``pattern`` names them; INVALID_ARGUMENT (naming ``field`` and the
    expected pattern) when it does not match."""
    if not name:
        raise InvalidArgument.field(field, f"must not be empty; expected {pattern}")
    matched = _compiled(pattern).fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not of the form {pattern}")
    return matched.groups()


def format_name(pattern: str, *ids: str) -> str:
    """``format_name("schemes/{scheme}/drgs/{drg}", "chs-drg-1.1", "FM11")`` -> "schemes/chs-drg-1.1/drgs/FM11"."""
    values = iter(ids)
    return _VARIABLE.sub(lambda _: next(values), pattern)
