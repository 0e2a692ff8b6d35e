"""Collection's migrations on a database of their own: lists stored before the case feed enter it with the
case the service itself would have recorded, and the history goes down and up again."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson
from alembic import command

from libs.common.db.migrate import alembic_config, upgrade
from services.collection.domain.feed import case_columns
from services.collection.domain.model import GroupRow
from services.collection.domain.parsing import parse_list

from ..e2e.lists import fresh
from ..support import schema_differences


async def store_as_0001(conn: asyncpg.Connection, list_id: int, request: dict[str, Any], group: GroupRow) -> None:
    """A list as the service stored it before the feed existed (schema 0001)."""
    parsed, findings = parse_list(request["fixmedins_code"], request["fixmedins_name"], request["input"])
    assert parsed is not None and not findings
    f = parsed.facts
    await conn.execute(
        "INSERT INTO collection.settlement_list VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE', 1, now())",
        list_id, f"330700L20260101{list_id:08d}", parsed.fixmedins_code, parsed.setl_id, parsed.psn_no, parsed.region,
        parsed.period)
    await conn.execute(
        "INSERT INTO collection.list_revision (list_id, revision, digest, body, ruleset, total_fen, fund_fen, "
        "los_days, sex, age_years, discharge_date, discharge_type, principal_dx) "
        "VALUES ($1, 1, 'd', $2::jsonb, 'QC', $3, $4, $5, $6, $7, $8, $9, $10)",
        list_id, orjson.dumps(parsed.body).decode(), parsed.total_fen, parsed.fund_fen, f.los_days, f.sex,
        f.age_years, parsed.discharge_date, f.discharge_type, f.diagnoses[0])
    await conn.execute(
        "INSERT INTO collection.group_result (list_id, revision, scheme_id, scheme_version, drg, adrg, mdc, status) "
        "VALUES ($1, 1, $2, $3, $4, $5, $6, $7)", list_id, group.scheme_id, group.scheme_version, group.drg,
        group.adrg, group.mdc, group.status)


async def test_lists_stored_before_the_feed_enter_it_with_their_case(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, "collection", empty_database, "0001")
    requests = [r for r, t in fresh(seed=61, cases=60) if not t["faults"]][:20]
    group = GroupRow("chs-drg-1.1", "1.1+abc", "FM19", "FM1", "F", "GROUPED")
    conn = await asyncpg.connect(empty_database)
    try:
        for i, request in enumerate(requests, start=1):
            await store_as_0001(conn, i, request, group)
        await asyncio.to_thread(upgrade, "collection", empty_database, "head")
        events = await conn.fetch("SELECT * FROM collection.case_event ORDER BY event_id")
    finally:
        await conn.close()
    assert [e["list_id"] for e in events] == list(range(1, len(requests) + 1))
    for event, request in zip(events, requests, strict=True):
        parsed, _ = parse_list(request["fixmedins_code"], request["fixmedins_name"], request["input"])
        assert parsed is not None
        expected = case_columns(parsed, [group], 0)
        got = {k: event[k] for k in expected}
        got["groups"] = orjson.loads(got["groups"])
        assert got == expected
        assert (event["kind"], event["status"], event["revision"], event["sequence"]) == ("ACCEPTED", "ACTIVE", 1,
                                                                                         None)


async def test_the_history_goes_down_and_up_again(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, "collection", empty_database, "head")
    await asyncio.to_thread(command.downgrade, alembic_config("collection", empty_database), "0001")
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('collection.case_event')") is None
        assert await conn.fetchval("SELECT version_num FROM collection.alembic_version") == "0001"
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, "collection", empty_database, "head")
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('collection.case_event')") is not None
    finally:
        await conn.close()


async def test_the_tables_the_code_declares_are_the_tables_the_migrations_make(empty_database: str) -> None:
    """Alembic's autogenerate, run against the migrated schema, finds nothing to change: no table, column, type,
    nullability or index the code declares differently from what the migrations built."""
    from services.collection.adapters.tables import all_tables

    await asyncio.to_thread(upgrade, "collection", empty_database, "head")
    found = await schema_differences(empty_database, "collection", all_tables())
    assert found == []


async def test_import_jobs_become_runs_of_the_run_framework(empty_database: str) -> None:
    """0007: a finished import job is a SUCCEEDED run (the file is not imported again), an unfinished one a
    PENDING run whose checkpoint is the line it reached (the next import resumes there); and back."""
    await asyncio.to_thread(upgrade, "collection", empty_database, "0006")
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute(
            "INSERT INTO collection.import_job (file_digest, path, lines_done, accepted, rejected, finished, kind, "
            "pending) VALUES ('a' || repeat('0', 63), 'lists.jsonl', 5000, 4800, 150, 1, 'lists', 50), "
            "('b' || repeat('0', 63), 'records.jsonl', 2000, 1990, 10, 0, 'records', 0)")
        await asyncio.to_thread(upgrade, "collection", empty_database, "head")
        runs = {r["kind"]: r for r in await conn.fetch("SELECT * FROM collection.run")}
        assert await conn.fetchval("SELECT to_regclass('collection.import_job')") is None
        lists, records = runs["collection.import-lists"], runs["collection.import-records"]
        assert (lists["state"], lists["run_key"], lists["progress_done"]) == ("SUCCEEDED", "a" + "0" * 63, 5000)
        assert orjson.loads(lists["result"]) == {"lines": 5000, "accepted": 4800, "pending": 50, "rejected": 150,
                                                 "skipped": 0}
        assert (records["state"], orjson.loads(records["checkpoint"])["lines"], records["result"]) == (
            "PENDING", 2000, None)
        await asyncio.to_thread(command.downgrade, alembic_config("collection", empty_database), "0006")
        jobs = {r["kind"]: r for r in await conn.fetch("SELECT * FROM collection.import_job")}
        assert (jobs["lists"]["finished"], jobs["lists"]["lines_done"], jobs["lists"]["pending"]) == (1, 5000, 50)
        assert (jobs["records"]["finished"], jobs["records"]["lines_done"]) == (0, 2000)
    finally:
        await conn.close()
