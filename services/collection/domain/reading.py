"""Reading the lines of a bulk-import file: JSON, the national envelope, the list (pure; run in worker
processes by the bulk import, so that parsing, the heaviest part of an import, is spread over the cores)."""

from __future__ import annotations

import orjson

from .envelope import content_digest, read_envelope
from .limits import checked_form, stay_window
from .model import Finding, ParsedList, error
from .parsing import parse_checked, parse_list
from .plain_input import already_checked

ReadLine = tuple[int, str, str, ParsedList | None, list[Finding]]
"""(file line, idempotency key, content digest, the list or None, findings)."""


def read_line(number: int, line: bytes, file_digest: str, window: tuple[str, str] | None = None) -> ReadLine:
    """One line: a line that is not a readable request is keyed by its place in the file (a rejection record
    naming why), a request by its institution and msgid (the key an upload of it through the door has).
    ``window``: the stay's plausible window (``limits.stay_window``), taken once per chunk."""
    try:
        request = orjson.loads(line)
    except orjson.JSONDecodeError as bad:
        return number, f"import:{file_digest[:16]}:{number}", "", None, [
            error("ENV-000", "", "不是合法 JSON", f"line {number} is not JSON: {bad}")]
    envelope, _ = read_envelope(request, None, deep=False)
    if envelope is None:
        checked = None
    elif already_checked(line, *(window or stay_window()), request):  # the common line, judged whole (mostly in C)
        checked = envelope.body
    else:
        checked = checked_form(envelope.body, envelope.fixmedins_code)
    if envelope is None or checked is None:  # not the common flat list within its limits: read as the door does
        envelope, problems = read_envelope(request, None)
        if envelope is None:
            return number, f"import:{file_digest[:16]}:{number}", "", None, problems
    key = f"msgid:{envelope.fixmedins_code}:{envelope.msgid}"
    content = content_digest(envelope.infno, envelope.fixmedins_code, envelope.body)
    if checked is not None:
        parsed, findings = parse_checked(envelope.fixmedins_code, envelope.fixmedins_name, checked)
    else:
        parsed, findings = parse_list(envelope.fixmedins_code, envelope.fixmedins_name, envelope.body)
    return number, key, content, parsed, findings


def read_lines(lines: list[tuple[int, bytes]], file_digest: str) -> list[ReadLine]:
    """A chunk of lines (what a worker process is given)."""
    window = stay_window()
    return [read_line(number, line, file_digest, window) for number, line in lines]
