"""Scaling past one machine (README "Scaling past one machine"): the layout a Citus distribution by region uses,
built with declarative partitioning on plain PostgreSQL from the real tables (LIST by region, then RANGE by
period), and the inventory of every table's place in it, so a new table cannot arrive without one."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.common.db.region import institution_region
from services.collection.domain.model import region_of

REFERENCE = {
    # replicated to every node (Citus reference tables): code standards, rule and knowledge versions, and the
    # platform's own bookkeeping (runs, idempotency keys, gateway nonces), small, read everywhere, no tenant's rows
    "coding.code", "coding.code_system", "coding.code_version",
    "grouping.dip_build_upload", "grouping.run", "evaluation.run", "review.run", "settlement.run",
    "review.knowledge_item", "review.knowledge_version", "review.rule_set", "review.rule_version", "review.run_rule",
    "collection.gateway_nonce", "collection.run", "collection.idempotency",
}
BY_REGION = {
    # distributed by region: every table of a tenant's data carries it, a child table too (Citus co-locates a
    # join only on the distribution column, so a child cannot reach its region through its parent's key)
    "collection.settlement_list", "collection.case_event", "collection.settlement_record",
    "collection.list_revision", "collection.group_result", "collection.list_finding", "collection.status_history",
    "collection.rejection", "collection.record_revision", "collection.join_task", "collection.fee_upload",
    "collection.fee_stay", "collection.fee_detail",
    "grouping.dip_catalogue_version", "evaluation.evaluation_run", "evaluation.group_profile",
    "evaluation.indicator", "review.feed_cursor", "review.flag", "review.flag_event", "review.review_run",
    "review.stay", "settlement.policy", "settlement.settlement_run", "settlement.weight_group",
    "settlement.weight_table", "settlement.case_result", "settlement.hospital_statement", "collection.audit_log",
    "review.audit_log", "settlement.audit_log", "settlement.ledger_entry", "settlement.ledger_line",
    "settlement.special_case", "settlement.special_case_decision",
}


async def test_every_table_has_its_place_in_the_distributed_layout(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT t.table_schema || '.' || t.table_name AS name, bool_or(c.column_name = 'region') AS region "
            "FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND t.table_name <> 'alembic_version' "
            "AND t.table_schema IN ('coding', 'grouping', 'collection', 'settlement', 'evaluation', 'review') "
            "GROUP BY 1")
    finally:
        await conn.close()
    tables = {row["name"]: row["region"] for row in rows}
    assert not REFERENCE & BY_REGION
    assert set(tables) - (REFERENCE | BY_REGION) == set(), "new tables: reference or by region?"
    assert {name for name in BY_REGION if name in tables and not tables[name]} == set(), "must carry region"


async def test_the_region_of_a_child_row_is_written_by_the_code_and_filled_by_the_migrations(
        database_url: str) -> None:
    """The migrations made the column NOT NULL (so no writer can leave it out), and the SQL that fills the
    region of rows whose parent is the institution agrees with the domain's ``region_of``."""
    conn = await asyncpg.connect(database_url)
    try:
        nullable = {f"{r['table_schema']}.{r['table_name']}" for r in await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE column_name = 'region' AND is_nullable = 'YES'")}
        codes = ["H33070300001", "H33010200042", "H3307", "", "X330703ABC", "H33O70300001", "H١٢٣٤٥٦0001",
                 "H330703"]
        sql = await conn.fetch(f"SELECT {institution_region('c')} AS region FROM unnest($1::text[]) AS c", codes)
    finally:
        await conn.close()
    assert nullable & BY_REGION == set()
    assert [r["region"] for r in sql] == [region_of(c) for c in codes]


CHILD_OF = {
    # child table -> (parent table, join condition over child c and parent p): the region a child row must carry
    "collection.list_revision": ("collection.settlement_list", "p.list_id = c.list_id"),
    "collection.list_finding": ("collection.settlement_list", "p.list_id = c.list_id"),
    "collection.group_result": ("collection.settlement_list", "p.list_id = c.list_id"),
    "collection.status_history": ("collection.settlement_list", "p.list_id = c.list_id"),
    "collection.record_revision": ("collection.settlement_record", "p.record_id = c.record_id"),
    "collection.join_task": ("collection.settlement_record",
                             "p.fixmedins_code = c.fixmedins_code AND p.setl_id = c.setl_id"),
    "collection.fee_detail": ("collection.fee_stay", "p.fixmedins_code = c.fixmedins_code AND p.mdtrt_id = c.mdtrt_id"),
    "evaluation.indicator": ("evaluation.evaluation_run", "p.run_id = c.run_id"),
    "evaluation.group_profile": ("evaluation.evaluation_run", "p.run_id = c.run_id"),
    "review.flag_event": ("review.flag", "p.flag_id = c.flag_id"),
    "settlement.case_result": ("settlement.settlement_run", "p.run_id = c.run_id"),
    "settlement.hospital_statement": ("settlement.settlement_run", "p.run_id = c.run_id"),
}


async def test_child_rows_carry_their_parents_region(database_url: str) -> None:
    """Whatever the tests before this one stored (the suite's database), every child row's region is its
    parent's, and an institution's rows carry the institution's."""
    conn = await asyncpg.connect(database_url)
    try:
        wrong = {child: await conn.fetchval(f"SELECT count(*) FROM {child} c JOIN {parent} p ON {on} "
                                            f"WHERE c.region <> p.region")
                 for child, (parent, on) in CHILD_OF.items()}
        for table in ("collection.rejection", "collection.fee_upload", "collection.fee_stay", "collection.join_task"):
            wrong[table] = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE region <> {institution_region('fixmedins_code')}")
    finally:
        await conn.close()
    assert {table: n for table, n in wrong.items() if n} == {}


REGIONS = ("330100", "330700")
YEARS = ("2025", "2026")


@pytest.fixture
async def partitioned(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """collection.settlement_list and collection.case_event re-created partitioned in a scratch schema: their
    own columns and defaults (LIKE), LIST (region) then RANGE (period) per year, a default partition at each level
    so a new region or year is stored before its partition is made."""
    conn = await asyncpg.connect(database_url)
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    for table, key in (("settlement_list", "list_id"), ("case_event", "event_id")):
        await conn.execute(f"""
            CREATE TABLE {schema}.{table} (LIKE collection.{table} INCLUDING DEFAULTS)
                PARTITION BY LIST (region);
            ALTER TABLE {schema}.{table} ADD PRIMARY KEY (region, period, {key});
            CREATE TABLE {schema}.{table}_other PARTITION OF {schema}.{table} DEFAULT""")
        for region in REGIONS:
            await conn.execute(f"""
                CREATE TABLE {schema}.{table}_{region} PARTITION OF {schema}.{table} FOR VALUES IN ('{region}')
                    PARTITION BY RANGE (period);
                CREATE TABLE {schema}.{table}_{region}_other PARTITION OF {schema}.{table}_{region} DEFAULT""")
            for year in YEARS:
                await conn.execute(f"""
                    CREATE TABLE {schema}.{table}_{region}_{year} PARTITION OF {schema}.{table}_{region}
                        FOR VALUES FROM ('{year}-01') TO ('{int(year) + 1}-01')""")
    await conn.execute(f"ALTER TABLE {schema}.settlement_list "
                       f"ADD UNIQUE (region, period, fixmedins_code, setl_id)")
    try:
        yield conn, schema
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_rows_land_in_their_region_and_period_and_queries_touch_one_partition(
        partitioned: tuple[asyncpg.Connection, str]) -> None:
    conn, schema = partitioned
    await conn.execute(f"""
        INSERT INTO {schema}.settlement_list (setl_list_id, fixmedins_code, setl_id, psn_no, region, period, status,
                                              current_revision)
        SELECT 'L' || n, 'H' || region || '0001', 'S' || n, 'P' || n, region,
               to_char(date '2025-01-01' + (n % 24) * interval '1 month', 'YYYY-MM'), 'ACTIVE', 1
        FROM generate_series(1, 480) AS n, unnest(ARRAY['330100', '330700', '331000']) AS region""")
    placed = {(row["partition"], row["region"], row["year"]): row["count"] for row in await conn.fetch(
        f"SELECT tableoid::regclass::text AS partition, region, left(period, 4) AS year, count(*) "
        f"FROM {schema}.settlement_list GROUP BY 1, 2, 3")}
    for region in REGIONS:
        for year in YEARS:
            assert placed[(f"{schema}.settlement_list_{region}_{year}", region, year)] == 240
    assert placed[(f"{schema}.settlement_list_other", "331000", "2025")] == 240  # no partition yet: the default

    plan = json.loads(await conn.fetchval(
        f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM {schema}.settlement_list "
        f"WHERE region = '330700' AND period BETWEEN '2026-01' AND '2026-06' AND status = 'ACTIVE'"))
    assert relations(plan) == {"settlement_list_330700_2026"}
    plan = json.loads(await conn.fetchval(
        f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM {schema}.settlement_list WHERE region = '330100'"))
    assert relations(plan) == {"settlement_list_330100_2025", "settlement_list_330100_2026",
                               "settlement_list_330100_other"}

    with pytest.raises(asyncpg.UniqueViolationError):  # one list per institution and setl_id in its month
        await conn.execute(f"""
            INSERT INTO {schema}.settlement_list (setl_list_id, fixmedins_code, setl_id, psn_no, region, period,
                                                  status, current_revision)
            SELECT 'again', fixmedins_code, setl_id, psn_no, region, period, status, 1
            FROM {schema}.settlement_list WHERE region = '330700' LIMIT 1""")


def relations(plan: object) -> set[str]:
    """The tables a JSON plan scans."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "Relation Name" in node:
                found.add(str(node["Relation Name"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return found
