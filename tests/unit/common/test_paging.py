"""Page tokens and in-memory pages (libs/common/paging.py): 0 is the default size, forged tokens are
INVALID_PAGE_TOKEN, a page after a vanished row goes on where it was, and every_page walks a List to its end."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from libs.common.errors import InvalidArgument
from libs.common.paging import decode_token, encode_token, every_page, page_of, page_size


def test_size_zero_is_the_default_and_the_maximum_clamps() -> None:
    assert page_size(0, 100, 1000) == 100
    assert page_size(5000, 100, 1000) == 1000
    with pytest.raises(InvalidArgument) as negative:
        page_size(-1, 100, 1000)
    assert negative.value.reason == "INVALID_FIELD" and negative.value.metadata["field"] == "page_size"


def _edited(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-1] ^= 1  # the cursor's last character changed, the check left as it was
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("forged", [
    "forged", "cDA6eA==", encode_token("x")[:-2] + "!!",
    base64.urlsafe_b64encode(b"p1:42").decode(),  # the unchecked format of before: a cursor a client wrote
    _edited(encode_token("H33070300089")),
    encode_token("x")[:12],  # truncated
])
def test_a_forged_token_is_invalid_page_token(forged: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_token(forged)
    assert raised.value.reason == "INVALID_PAGE_TOKEN"


def test_pages_walk_every_item_once_and_survive_a_vanished_row() -> None:
    items = [f"H{n:02d}" for n in range(7)]
    seen, token = [], ""
    while True:
        page, token = page_of(items, str, token, 3)
        seen += page
        if not token:
            break
    assert seen == items
    first, token = page_of(items, str, "", 3)
    rest, _ = page_of([i for i in items if i != "H02"], str, token, 3)  # the page's last row was deleted
    assert first == ["H00", "H01", "H02"] and rest == ["H03", "H04", "H05"]
    assert page_of(items, str, "", 7) == (items, "")  # exactly one full page: no token to an empty page


@dataclass
class _Request:
    page_token: str = ""
    page_size: int = 2

    def SerializeToString(self) -> bytes:
        return f"{self.page_token}|{self.page_size}".encode()

    @classmethod
    def FromString(cls, data: bytes) -> _Request:
        token, size = data.decode().split("|")
        return cls(token, int(size))


@dataclass
class _Response:
    items: list[int]
    next_page_token: str = ""


@dataclass
class _Stub:
    data: list[int]
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def List(self, request: _Request, **options: Any) -> _Response:
        self.calls.append((request.page_token, options))
        page, token = page_of(self.data, str, request.page_token, request.page_size)
        return _Response(page, token)


async def test_every_page_follows_the_tokens_to_the_end() -> None:
    stub, first = _Stub(list(range(5))), _Request()
    assert [i async for i in every_page(stub.List, first, "items", metadata=(("k", "v"),))] == [0, 1, 2, 3, 4]
    assert len(stub.calls) == 3 and all(options == {"metadata": (("k", "v"),)} for _, options in stub.calls)
    assert first.page_token == ""  # the caller's request is not changed
