"""Personal data out of log lines: the filter every medpay log handler carries.

Lists carry patients' names, insurance numbers (``psn_no``, ``hi_no``), resident ID numbers (``certno``) and
contacts. Code should never log them, but error messages quote data: a database error carries its statement's
parameters (the engines hide them: ``hide_parameters``), PostgreSQL's DETAIL quotes a failing row or a duplicate
key, an exception's repr shows a dict. So the last line of defence redacts, in every message, exception text and
structured field:
- the values of personal keys, however written (``"psn_name": "…"``, ``'psn_no': '…'``, ``certno=…``);
- resident ID numbers (17 digits and a check character) anywhere;
- ``[parameters: …]`` of SQLAlchemy errors, PostgreSQL's ``Failing row contains (…)`` and ``Key (…)=(…)``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

PERSONAL_KEYS = ("psn_name", "psn_no", "certno", "hi_no", "coner_name", "coner_tel", "coner_addr", "curr_addr")
"""Fields of a list that identify or locate a person (the national 4101A names)."""

REDACTED = "[redacted]"

_KEYS = "|".join(PERSONAL_KEYS)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "psn_name": "张三"   'psn_no': '3307…'   psn_name=张三   psn_no: 3307…   (JSON, repr, key=value, YAML)
    (re.compile(rf"""(?P<key>["']?\b(?:{_KEYS})\b["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,;)}}\]&]+)"""),
     rf"\g<key>{REDACTED}"),
    # a resident ID number (GB 11643): 17 digits and a digit or X, not part of a longer code
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), REDACTED),
    (re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL), f"[parameters: {REDACTED}]"),
    (re.compile(r"Failing row contains \(.*?\)(?=\.?\s*(?:\n|$|\[|\())", re.DOTALL),
     f"Failing row contains ({REDACTED})"),
    (re.compile(r"(Key \([^)]*\)=)\((?:[^()]|\([^()]*\))*\)"), rf"\1({REDACTED})"),
)


def redact(text: str) -> str:
    """``text`` without personal values (see the module docstring)."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: REDACTED if k in PERSONAL_KEYS else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record before any formatter sees it: message (with its arguments), exception text, ``fields``."""

    _exceptions = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exceptions.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = _redact_value(fields)
        return True
