"""Where names and resident ID numbers live at rest: only in the stored list bodies (collection.list_revision,
and collection.record_revision for the core system's records), never copied into another table or schema, and
never kept from a rejected list. Checked by searching every row of every table of the database for them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import asyncpg
import httpx

from .lists import fresh

App = tuple[Any, str, Any]

CLEAR_TEXT_HOMES = {"collection.list_revision", "collection.record_revision"}
"""The one place (README "Personal data") names and certificate numbers are stored in clear text."""


async def tables_holding(database_url: str, value: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
        found = set()
        for row in tables:
            name = f'"{row["table_schema"]}"."{row["table_name"]}"'
            if await conn.fetchval(f"SELECT EXISTS (SELECT FROM {name} AS t WHERE t::text LIKE $1)", f"%{value}%"):
                found.add(f"{row['table_schema']}.{row['table_name']}")
        return found
    finally:
        await conn.close()


def with_person(request: dict[str, Any], name: str, certno: str) -> dict[str, Any]:
    request = copy.deepcopy(request)
    request["input"]["setlinfo"].update(psn_name=name, certno=certno)
    return request


async def test_names_and_certificate_numbers_are_stored_only_in_the_list_bodies(collection_app: App,
                                                                                 database_url: str) -> None:
    _, base, _ = collection_app
    rows = fresh(seed=131, cases=40)
    valid = next(r for r, truth in rows if not truth["faults"])
    faulty = next(r for r, truth in rows if truth["faults"])
    tag = uuid.uuid4().int % 10**8
    kept = (f"甲{tag}乙", f"3307021980{tag:08d}"[:17] + "X")
    refused = (f"丙{tag}丁", f"3307021990{tag:08d}"[:17] + "X")
    async with httpx.AsyncClient(timeout=60) as client:
        ok = (await client.post(f"{base}/{valid['infno']}", json=with_person(valid, *kept))).json()
        bad = (await client.post(f"{base}/{faulty['infno']}", json=with_person(faulty, *refused))).json()
    assert ok["infcode"] == 0, ok["err_msg"]
    assert bad["infcode"] == -1
    for value in kept:
        found = await tables_holding(database_url, value)
        assert "collection.list_revision" in found and found <= CLEAR_TEXT_HOMES, (value, found)
    for value in refused:
        assert await tables_holding(database_url, value) == set(), value
