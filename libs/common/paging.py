"""Opaque page tokens (AIP-158): a cursor the server understands and the client passes back untouched."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .errors import InvalidArgument

T = TypeVar("T")

_PREFIX = "p2:"  # versions the token format (p1 tokens carried no check)
_CHECK_BYTES = 8
_CHECK_KEY = b"medpay page token"


def _check(text: bytes) -> bytes:
    return hashlib.blake2b(text, key=_CHECK_KEY, digest_size=_CHECK_BYTES).digest()


def encode_token(cursor: str) -> str:
    """The token of a page that continues after ``cursor`` ("" for none): the cursor behind a keyed check, so
    that garbage, a truncated or edited token and a cursor a client wrote itself are all told from ours at once
    and refused the same way (INVALID_PAGE_TOKEN) before a servicer reads them. The check is not a secret (the
    key is in this file): tenancy and permissions never rest on it, only the uniform answer to forged tokens."""
    if not cursor:
        return ""
    text = (_PREFIX + cursor).encode()
    return base64.urlsafe_b64encode(_check(text) + text).decode()


def decode_token(token: str, field: str = "page_token") -> str:
    """The cursor of a token ``encode_token`` wrote; anything else is INVALID_ARGUMENT (INVALID_PAGE_TOKEN)."""
    if not token:
        return ""
    try:
        raw = base64.b64decode(token.encode(), altchars=b"-_", validate=True)
        check, text = raw[:_CHECK_BYTES], raw[_CHECK_BYTES:]
        cursor = text.decode() if hmac.compare_digest(check, _check(text)) else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        cursor = ""
    if not cursor.startswith(_PREFIX) or cursor == _PREFIX:
        raise InvalidArgument.field(field, "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return cursor[len(_PREFIX):]


def page_size(requested: int, default: int, maximum: int, field: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument.field(field, "must not be negative")
    return min(requested or default, maximum)


def page_of(items: Sequence[T], key: Callable[[T], str], token: str, size: int) -> tuple[list[T], str]:
    """One page of ``items`` (already in the method's order, which ``key`` follows) after the item a token names,
    and the token of the next page ("" on the last). For short lists computed whole (one row per hospital or
    per rule); the token is the last key, so a row that vanished between pages does not shift the rest."""
    after = decode_token(token)
    start = 0
    if after:
        keys = [key(item) for item in items]
        start = keys.index(after) + 1 if after in keys else next(
            (i for i, k in enumerate(keys) if k > after), len(items))
    page = list(items[start:start + size])
    more = start + size < len(items)
    return page, encode_token(key(page[-1])) if more and page else ""


async def every_page(call: Callable[..., Awaitable[Any]], request: Any, items: str,
                     **options: Any) -> AsyncIterator[Any]:
    """Every item a List method returns, page after page: ``call`` is the stub's method, ``request`` the request
    of the first page (not changed), ``items`` the response's repeated field; ``options`` go to each call
    (metadata, timeout)."""
    request = type(request).FromString(request.SerializeToString())
    while True:
        page = await call(request, **options)
        for item in getattr(page, items):
            yield item
        if not page.next_page_token:
            return
        request.page_token = page.next_page_token
