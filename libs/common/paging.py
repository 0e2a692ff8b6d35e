"""Opaque page tokens (AIP-158): a cursor the server understands and the client passes back untouched."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .errors import InvalidArgument

T = TypeVar("T")

_PREFIX = "p1:"  # versions the token format and tells our tokens from garbage


def encode_token(cursor: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + cursor).encode()).decode() if cursor else ""


def decode_token(token: str, field: str = "page_token") -> str:
    if not token:
        return ""
    try:
        text = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_PREFIX):
        raise InvalidArgument.field(field, "not a token returned by this service", "INVALID_PAGE_TOKEN")
    return text[len(_PREFIX):]


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
