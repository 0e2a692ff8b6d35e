"""Opaque page tokens (AIP-158): a cursor the server understands and the client passes back untouched."""

from __future__ import annotations

import base64
import binascii

from .errors import InvalidArgument

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
