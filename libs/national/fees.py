"""Fee details (费用明细): one line of a 2301 ``feedetail`` as exact integers.

Quantities (``cnt``) and unit prices (``pric``) are held in millionths, amounts in fen: ``cnt x pric`` is then
exact without ``Decimal`` (a stay has hundreds of lines and the batch review reads thousands of stays a second).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec

from libs.common.money import wire_fen

from .clock import CHINA

SCALE = 1_000_000
"""Quantities and unit prices are held in millionths: exact for up to six decimal places."""
FEE_CATEGORIES = frozenset(f"{i:02d}" for i in range(1, 15))
_DECIMAL = re.compile(r"\s*([+-]?)(\d{1,12})(?:\.(\d{0,12}))?\s*")
FEN_UNITS = SCALE * SCALE // 100
"""One fen in the units of ``cnt x pric`` (millionths times millionths of a yuan)."""


class FeeLine(NamedTuple):
    """One fee line. A tuple, not a dataclass: a stay has hundreds and building them is on hot paths.

    ``time`` is "yyyy-MM-dd HH:mm:ss"; ``cnt`` and ``pric`` in millionths (``SCALE``), ``amount`` in fen; ``cnt``
    is negative on a refund line (退费), whose ``refers_to`` is the ``init_feedetl_sn`` of the line it refunds when
    the hospital names it. ``category`` is ``med_chrgitm_type`` as sent.
    """

    sn: str
    code: str
    category: str
    time: str
    cnt: int
    pric: int
    amount: int
    mdtrt_id: str = ""
    refers_to: str = ""


_new_line = tuple.__new__  # FeeLine(...) without the Python-level __new__ frame: half the cost, per line

Scalar = str | int | float | None


class RawDetail(msgspec.Struct, gc=False):
    """The fields of a 2301 ``feedetail`` entry that are read (others, ``psn_no`` among them, are skipped: each
    string decoded costs, half a million times in a synthetic year), as sent."""

    feedetl_sn: Scalar = None
    mdtrt_id: Scalar = None
    fee_ocur_time: Scalar = None
    med_list_codg: Scalar = None
    med_chrgitm_type: Scalar = None
    cnt: Scalar = None
    pric: Scalar = None
    det_item_fee_sumamt: Scalar = None
    init_feedetl_sn: Scalar = None


class RawInput(msgspec.Struct, gc=False):
    feedetail: list[RawDetail] | None = None
    data: dict[str, Scalar] | None = None  # 2302: {feedetl_sn, mdtrt_id, psn_no}


class RawRequest(msgspec.Struct, gc=False):
    """A 2301 or 2302 request: the envelope fields read and ``input``."""

    infno: Scalar = None
    msgid: Scalar = None
    fixmedins_code: Scalar = None
    input: RawInput | None = None


_decode_request = msgspec.json.Decoder(RawRequest).decode


def decode_request(raw: bytes) -> RawRequest:
    """A 2301/2302 request from JSON bytes; ``ValueError`` says why not (not JSON, or a node of the wrong type)."""
    try:
        return _decode_request(raw)
    except msgspec.DecodeError as bad:  # ValidationError included
        raise ValueError(str(bad)) from None


def scaled(value: Any) -> int | None:
    """A decimal string or number in millionths, exactly; ``None`` when it is not a plain decimal or has more than
    six places (never rounded: a quantity is read as sent)."""
    if isinstance(value, str):
        whole, _, frac = value.partition(".")
        if whole.isdigit() and whole.isascii() and len(whole) <= 12 and len(frac) <= 6 and (
                not frac or (frac.isdigit() and frac.isascii())):
            return int(whole) * SCALE + (int(frac.ljust(6, "0")) if frac else 0)
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int):
        return value * SCALE
    text = repr(value) if isinstance(value, float) else str(value)
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    sign, whole, frac = match.groups()
    frac = (frac or "").rstrip("0")
    if len(frac) > 6:
        return None
    number = int(whole) * SCALE + int(frac.ljust(6, "0"))
    return -number if sign == "-" else number


def scaled_text(value: int) -> str:
    """Millionths as a plain decimal: 2500000 -> "2.5", 3000000 -> "3"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), SCALE)
    rest = f"{frac:06d}".rstrip("0")
    return f"{sign}{whole}.{rest}" if rest else f"{sign}{whole}"


def normal_time(value: Any) -> str:
    """A fee time as "yyyy-MM-dd HH:mm:ss", or "" when unreadable ("T" separators, missing seconds and bare dates
    are accepted as hospital systems send them)."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if len(text) == 19 and text[10] == " " and text[4] == "-" and text[13] == ":" and text[16] == ":":
        return text  # the common shape; its digits are checked by the callers' date arithmetic only where used
    text = text.replace("T", " ")
    if len(text) == 10:
        text += " 00:00:00"
    elif len(text) == 16:
        text += ":00"
    try:
        return datetime.fromisoformat(text[:19]).isoformat(" ") if len(text) >= 19 else ""
    except ValueError:
        return ""


_CACHE_LIMIT = 200_000
_scaled_cache: dict[str, int | None] = {}
_fen_cache: dict[str, int | None] = {}


def _cached_scaled(value: Any) -> int | None:
    """``scaled`` with a cache for strings: quantities and unit prices repeat endlessly ("1", "12.50")."""
    if type(value) is not str:
        return scaled(value)
    found = _scaled_cache.get(value)
    if found is None and value not in _scaled_cache:
        if len(_scaled_cache) >= _CACHE_LIMIT:
            _scaled_cache.clear()
        found = _scaled_cache[value] = scaled(value)
    return found


def _cached_fen(value: Any) -> int | None:
    if type(value) is not str:
        return wire_fen(value)
    found = _fen_cache.get(value)
    if found is None and value not in _fen_cache:
        if len(_fen_cache) >= _CACHE_LIMIT:
            _fen_cache.clear()
        found = _fen_cache[value] = wire_fen(value)
    return found


def read_feedetail(entry: Any, index: int = 0) -> FeeLine | str:
    """A ``feedetail`` entry (a JSON object as parsed) as a ``FeeLine``, or why it cannot be read."""
    if isinstance(entry, RawDetail):
        return read_detail(entry, index)
    try:
        return read_detail(msgspec.convert(entry, RawDetail), index)
    except msgspec.ValidationError as bad:
        return f"feedetail[{index}]: {bad}"


def read_detail(d: RawDetail, index: int = 0) -> FeeLine | str:
    """One entry as a ``FeeLine``, or why it cannot be read (naming the entry and fields).

    The hot path of the batch review (hundreds of lines per stay): attribute reads and cached conversions.
    """
    code = d.med_list_codg
    if type(code) is not str:
        code = "" if code is None else str(code)
    elif code[-1:] == " " or code[:1] == " ":
        code = code.strip()
    raw_cnt, raw_pric, raw_amount = d.cnt, d.pric, d.det_item_fee_sumamt
    cnt = _scaled_cache.get(raw_cnt) if type(raw_cnt) is str else None  # inlined caches: the hot path
    if cnt is None:
        cnt = _cached_scaled(raw_cnt)
    pric = _scaled_cache.get(raw_pric) if type(raw_pric) is str else None
    if pric is None:
        pric = _cached_scaled(raw_pric)
    amount = _fen_cache.get(raw_amount) if type(raw_amount) is str else None
    if amount is None:
        amount = _cached_fen(raw_amount)
    time = d.fee_ocur_time
    if not (type(time) is str and len(time) == 19 and time[10] == " " and time[4] == "-" and time[13] == ":"):
        time = normal_time(time)
    sn = d.feedetl_sn
    if type(sn) is not str:
        sn = "" if sn is None else str(sn)
    if not code or cnt is None or pric is None or amount is None or not time:
        problems = [(name, value) for name, value, bad in (
            ("med_list_codg", d.med_list_codg, not code), ("cnt", d.cnt, cnt is None),
            ("pric", d.pric, pric is None), ("det_item_fee_sumamt", d.det_item_fee_sumamt, amount is None),
            ("fee_ocur_time", d.fee_ocur_time, not time)) if bad]
        values = ", ".join(f"{name} {value!r}" for name, value in problems)
        return f"feedetail[{index}] (feedetl_sn {sn or '?'}): unreadable {values}"
    category = d.med_chrgitm_type
    if type(category) is not str:
        category = "" if category is None else f"{category:02d}" if type(category) is int else str(category)
    mdtrt, refers = d.mdtrt_id, d.init_feedetl_sn
    return _new_line(FeeLine, (sn, code, category, time, cnt, pric, amount,
                               mdtrt if type(mdtrt) is str else _str(mdtrt),
                               refers if type(refers) is str else "" if refers is None else str(refers)))


def _str(value: Any) -> str:
    return value if type(value) is str else "" if value is None else str(value)


LOCAL = CHINA
"""The national interface's times are local (Asia/Shanghai) without an offset."""


def fee_instant(local: str) -> datetime:
    """A fee time "yyyy-MM-dd HH:mm:ss" as the instant it is (for google.protobuf.Timestamp on the wire)."""
    return datetime.fromisoformat(local).replace(tzinfo=LOCAL)


def fee_local(instant: datetime) -> str:
    """An instant as the national interface writes fee times: "yyyy-MM-dd HH:mm:ss", Asia/Shanghai."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


def amount_matches(line: FeeLine) -> bool:
    """``amount = cnt x pric`` to the fen: exact when the product has at most two places, else rounded either way
    (hospital systems round half-up, half-even or down)."""
    product = line.cnt * line.pric
    low = product // FEN_UNITS
    return line.amount == low or (product % FEN_UNITS != 0 and line.amount == low + 1)


def product_fen(line: FeeLine) -> int:
    """``cnt x pric`` in fen, rounded half up."""
    return (line.cnt * line.pric + FEN_UNITS // 2) // FEN_UNITS
