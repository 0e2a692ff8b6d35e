"""Whether a request line's ``input`` is already in the internal form and within every input limit, judged
mostly in C: the bulk import's shortcut past ``limits.checked_form`` for the common line.

``checked_form`` walks a list value by value in Python (a third of reading a line). Most lines a hospital
system or the synthetic prefecture writes need nothing from it: every property a known field, every value a
text or count of its field's form within its limits. This module says so for a whole line at once:

- a typed decode (msgspec) of ``input`` against the national field sets: only known fields, texts of one to
  their most characters, counts within their range, no ``null``, at most so many entries per node;
- one regular expression over the raw line for what the decode cannot see: a text beginning or ending with
  whitespace, a control character, an escape that may stand for either, an empty object;
- one for money, dates and times not in their canonical form ("d.dd", "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss");
- the stay's dates and times against the plausible window.

When all hold, ``checked_form`` of the line's ``input`` is that same object, unchanged, and ``input_limits``
finds nothing (tests/unit/collection/test_plain_input.py checks both, on generated lists); when one does not,
the caller takes the value-by-value path, which decides exactly as before. The test is conservative: a line it
refuses may well be plain (an escaped Chinese punctuation mark, a pretty-printed line); it is then only slower.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Annotated, Any

import msgspec
from msgspec.structs import astuple

from .fields import MAX_ENTRIES, NODES, SETLINFO, Field, Kind

_AMOUNT_DIGITS = 7
"""Integer digits of an amount that lies within the limits whatever they are (below 10,000,000.00 yuan, the
same bound as ``limits._PLAIN_MONEY``)."""
_CANONICAL = {
    Kind.DATE: r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    Kind.DATETIME: r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
}
_MONEY_RUN = re.compile(rf"(?:[0-9]{{1,{_AMOUNT_DIGITS}}}\.[0-9]{{2}}(?:\x1f(?!$)|$))*")
"""Amounts in the internal form ("d.dd", short enough to be within the limits), joined by unit separators."""


class _Never(msgspec.Struct):
    """A type no value of a plain list decodes to: an object with a property no list has."""

    never_in_a_settlement_list: int


def _value_type(f: Field) -> Any:
    """The decoded type of a field's value in the internal form. Money is a text here, its form checked after
    the decode in one pass over all of a list's amounts (a pattern per value would cost more than the rest)."""
    if f.kind in (Kind.ID, Kind.TEXT):
        return Annotated[str, msgspec.Meta(min_length=1, max_length=f.size)]
    if f.kind in (Kind.INT, Kind.AGE):
        low, high = f.range()
        return Annotated[int, msgspec.Meta(ge=low, le=high)]
    if f.kind is Kind.GRAMS:  # the normaliser reads a weight (and leaves a 0 g weight out): never plain
        return _Never
    if f.kind is Kind.MONEY:
        return str
    return Annotated[str, msgspec.Meta(pattern=_CANONICAL[f.kind])]


class _Shape:
    """A node's (or setlinfo's) decoded struct type, and where its amounts, its stay's times and its times are
    (None: it has none)."""

    def __init__(self, name: str, fields: Mapping[str, Field], *, listed: bool) -> None:
        self.listed = listed
        self.type = msgspec.defstruct(name, [(key, _value_type(f), msgspec.UNSET) for key, f in fields.items()],
                                      forbid_unknown_fields=True)
        names = list(fields)
        self.amounts = _picker([names.index(k) for k, f in fields.items() if f.kind is Kind.MONEY])
        self.stay = _picker([names.index(k) for k, f in fields.items() if f.stay])
        self.times = _picker([names.index(k) for k, f in fields.items() if f.kind is Kind.DATETIME])


def _picker(positions: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    if not positions:
        return None
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return itemgetter(*positions)


_SETLINFO = _Shape("PlainSetlinfo", SETLINFO, listed=False)
_NODES = {node: _Shape(f"Plain_{node}", fields, listed=True) for node, fields in NODES.items()}
_PARTS = (("setlinfo", _SETLINFO), *_NODES.items())
_Input = msgspec.defstruct(
    "PlainInput",
    [("setlinfo", _SETLINFO.type, msgspec.UNSET)]
    + [(node, Annotated[list[shape.type], msgspec.Meta(max_length=MAX_ENTRIES[node])],  # type: ignore[name-defined]
        msgspec.UNSET) for node, shape in _NODES.items()],
    forbid_unknown_fields=True)
_Request = msgspec.defstruct("PlainRequest", [("input", _Input)])  # the envelope's other fields: read elsewhere
_DECODER = msgspec.json.Decoder(_Request)

_SUSPECT = (b"\\", b"\x7f", b"\xc2")
"""Bytes whose presence anywhere in a line sends it the value-by-value way (found at memory speed): a backslash
(an escape may stand for a control character or a space), DEL, and the lead byte of U+0080..U+00BF (the C1
controls, the no-break space and the next-line character among them)."""
_OTHER_SPACES = (b"\xe1", b"\xe2", b"\xe3")
"""Lead bytes of U+1000..U+3FFF, where the other characters ``str.strip`` removes lie (U+1680, U+2000..U+205F,
U+3000): a line without them, and without a space but those within its times, has no text to trim."""


def already_checked(line: bytes, earliest: str, latest: str) -> bool:
    """True when the request line's ``input`` is in the internal form within every input limit, the stay's
    times within ``earliest`` (a date) .. ``latest`` (a time), as ``limits.checked_form`` would have it; False
    when that needs the value-by-value reading (or the line is no request at all)."""
    for byte in _SUSPECT:
        if byte in line:
            return False
    try:
        request: Any = _DECODER.decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    body = request.input
    entries: list[tuple[Any, ...]] = []
    amounts: list[Any] = []
    stay: list[Any] = []
    times = 0
    for name, shape in _PARTS:
        part = getattr(body, name)
        if part is _UNSET:
            continue
        for values in map(astuple, part) if shape.listed else (astuple(part),):
            if values.count(_UNSET) == len(values):  # {}: the internal form leaves an empty entry out
                return False
            entries.append(values)
            if shape.amounts:
                amounts += shape.amounts(values)
            if shape.stay:
                stay += shape.stay(values)
            if shape.times:
                timed = shape.times(values)
                times += len(timed) - timed.count(_UNSET)
    if not (line.count(b" ") == times and not any(b in line for b in _OTHER_SPACES)) and not all(
            map(_texts_trimmed, entries)):  # a space elsewhere than within a time: look at every text
        return False
    try:
        joined = "\x1f".join(amounts)
    except TypeError:  # some amounts are absent
        joined = "\x1f".join(a for a in amounts if a is not _UNSET)
    if not _MONEY_RUN.fullmatch(joined):
        return False
    present = [t for t in stay if t is not _UNSET]
    return not present or (earliest <= min(present)[:10] and max(present) <= latest)


_UNSET: Any = msgspec.UNSET


def _texts_trimmed(values: tuple[Any, ...]) -> bool:
    """No text begins or ends with whitespace (any that ``str.strip`` removes; texts are never empty here)."""
    return not any(value.__class__ is str and (value[0].isspace() or value[-1].isspace()) for value in values)
