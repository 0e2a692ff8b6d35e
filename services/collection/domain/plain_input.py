"""Whether a request line's ``input`` is already in the internal form and within every input limit, judged
mostly in C: the bulk import's shortcut past ``limits.checked_form`` for the common line.

``checked_form`` walks a list value by value in Python (a third of reading a line). Most lines a hospital
system or the synthetic prefecture writes need nothing from it: every property a known field, every value a
text or count of its field's form within its limits. This module says so for a whole line at once:

- a typed reading (msgspec) of ``input`` against the national field sets: only known fields, texts of one to
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

from collections.abc import Callable, Mapping
from itertools import chain, repeat
from operator import itemgetter
from typing import Annotated, Any

import msgspec
import orjson
from msgspec.structs import astuple

from .fields import ENVELOPE, MAX_ENTRIES, NODES, SETLINFO, Field, Kind

_AMOUNT_DIGITS = 7
"""Integer digits of an amount that lies within the limits whatever they are (below 10,000,000.00 yuan, the
same bound as ``limits._PLAIN_MONEY``)."""
_CANONICAL = {Kind.DATE: "0000-00-00", Kind.DATETIME: "0000-00-00 00:00:00"}
"""Dates and times in the internal form ("yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss"), their digits all made "0"."""
_ZEROS = str.maketrans("0123456789", "0000000000")


def in_money_form(joined: str, separator: str, count: int, most_digits: int) -> bool:
    """Whether ``joined`` is ``count`` amounts in the internal form ("d.dd": one to ``most_digits`` ASCII digits,
    a point, two digits) joined by ``separator`` (neither a digit nor a point), as the pattern
    ``d{1,most}.dd(separator d{1,most}.dd)*`` with that many amounts would say: a few passes of C over the text
    with its digits all made "0" (the pattern's repeated group cost its matcher some 75 instructions a character;
    tests/unit/collection/test_plain_input.py holds the two alike)."""
    if not count:
        return joined == ""
    zeros = (joined + separator).translate(_ZEROS)
    return (zeros.count(separator) == count and zeros.count("." + "00" + separator) == count  # each ends ".dd"
            and zeros.count(".") == count and zeros.count("0") == len(zeros) - 2 * count  # no other point or text
            and not zeros.startswith(".") and separator + "." not in zeros  # one digit or more before the point
            and "0" * (most_digits + 1) + "." not in zeros)  # at most so many


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
        return Annotated[str, msgspec.Meta(min_length=1)]
    length = len(_CANONICAL[f.kind])  # its form checked after the decode, with all of a list's (as money's)
    return Annotated[str, msgspec.Meta(min_length=length, max_length=length)]


class _Shape:
    """A node's (or setlinfo's) decoded struct type, and where its amounts, its stay's times and its times are
    (None: it has none)."""

    def __init__(self, name: str, fields: Mapping[str, Field], *, listed: bool) -> None:
        self.listed = listed
        self.type = msgspec.defstruct(name, [(key, _value_type(f), msgspec.UNSET) for key, f in fields.items()],
                                      forbid_unknown_fields=True, gc=False)  # texts and counts: no cycle
        names = list(fields)
        self.empty = (msgspec.UNSET,) * len(names)
        self.amounts = _picker([names.index(k) for k, f in fields.items() if f.kind is Kind.MONEY])
        self.stay = _picker([names.index(k) for k, f in fields.items() if f.stay])
        self.times = _picker([names.index(k) for k, f in fields.items() if f.kind is Kind.DATETIME])
        self.dates = _picker([names.index(k) for k, f in fields.items() if f.kind is Kind.DATE])


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
    forbid_unknown_fields=True, gc=False)  # a judgement's own, dropped with it: never in a cycle
_Request = msgspec.defstruct(  # the envelope's fields are read elsewhere: here only their spaces are counted
    "PlainRequest", [("input", _Input), *((name, str, "") for name in ENVELOPE)], gc=False)
"""The envelope's fields texts (a null or a number sends the line the value-by-value way, as it may): their
spaces are counted in one join."""
_UNREAD: Any = object()

_SUSPECT = (b"\\", b"\x7f", b"\xc2")
"""Bytes whose presence anywhere in a line sends it the value-by-value way (found at memory speed): a backslash
(an escape may stand for a control character or a space), DEL, and the lead byte of U+0080..U+00BF (the C1
controls, the no-break space and the next-line character among them)."""
_OTHER_SPACES = (b"\xe1", b"\xe2", b"\xe3")
"""Lead bytes of U+1000..U+3FFF, where the other characters ``str.strip`` removes lie (U+1680, U+2000..U+205F,
U+3000): a line without them, and without a space but those within its times, has no text to trim."""


def already_checked(line: bytes, earliest: str, latest: str, request: Any = _UNREAD) -> bool:
    """True when the request line's ``input`` is in the internal form within every input limit, the stay's
    times within ``earliest`` (a date) .. ``latest`` (a time), as ``limits.checked_form`` would have it; False
    when that needs the value-by-value reading (or the line is no request at all). ``request``: the line as
    orjson reads it, where the caller has it (what is judged: it is what the caller goes on with)."""
    for byte in _SUSPECT:
        if byte in line:
            return False
    try:
        if request is _UNREAD:
            request = orjson.loads(line)
        request = msgspec.convert(request, _Request)  # of the values read (half the cost of decoding the line)
    except (msgspec.ValidationError, orjson.JSONDecodeError):
        return False
    body = request.input
    entries: list[tuple[Any, ...]] = []
    amounts: list[Any] = []
    stay: list[Any] = []
    times: list[Any] = []
    dates: list[Any] = []
    envelope = astuple(request)[1:]
    spaces = " ".join(envelope).count(" ") - len(envelope) + 1  # the envelope's
    for name, shape in _PARTS:
        part = getattr(body, name)
        if part is _UNSET:
            continue
        rows = list(map(astuple, part)) if shape.listed else [astuple(part)]
        if shape.empty in rows:  # {}: the internal form leaves an empty entry out
            return False
        entries += rows
        if shape.amounts:
            amounts += chain.from_iterable(map(shape.amounts, rows))
        if shape.stay:
            stay += chain.from_iterable(map(shape.stay, rows))
        if shape.times:
            times += chain.from_iterable(map(shape.times, rows))
        if shape.dates:
            dates += chain.from_iterable(map(shape.dates, rows))
    times = list(filter(None, times))
    spaces += len(times)  # one in each time
    if not (line.count(b" ") == spaces and not any(b in line for b in _OTHER_SPACES)) and not all(
            map(_texts_trimmed, entries)):  # a space elsewhere than in the envelope or a time: look at every text
        return False
    present = list(filter(None, amounts))  # UNSET (absent) is false, a text never
    if not in_money_form("\x1f".join(present), "\x1f", len(present), _AMOUNT_DIGITS):
        return False
    if not (_in_form(times, _TIME) and _in_form(list(filter(None, dates)), _DATE)):
        return False
    present = list(filter(None, stay))
    return not present or (earliest <= min(present)[:10] and max(present) <= latest)


_UNSET: Any = msgspec.UNSET
_TIME, _DATE = _CANONICAL[Kind.DATETIME], _CANONICAL[Kind.DATE]


def _in_form(texts: list[str], form: str) -> bool:
    """Every text is ``form`` with its zeros any ASCII digits."""
    return "\x1f".join(texts).translate(_ZEROS) == "\x1f".join(repeat(form, len(texts)))


def _texts_trimmed(values: tuple[Any, ...]) -> bool:
    """No text begins or ends with whitespace (any that ``str.strip`` removes; texts are never empty here)."""
    return not any(value.__class__ is str and (value[0].isspace() or value[-1].isspace()) for value in values)
