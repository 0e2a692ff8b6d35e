"""The case feed's outbox (table ``case_event``): appending events, publishing them, reading them.

Every writer of a case appends its event with the statements built here, in the transaction of the change. An
event gets its ``sequence`` when it is *published*: the publisher numbers all committed, unnumbered events in
the order they were appended, under a lock, in a transaction of its own. Numbers handed out at insert time
would commit out of order (a consumer could pass sequence 102 before 101 commits, and never see 101);
numbered at publication, sequence order is visibility order, so a cursor never skips an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.feed import CASE_COLUMNS, CaseEvent, EventKind, FeedCase, group_of_json
from ..domain.model import MoneySource
from .tables import SCHEMA

S = SCHEMA
FEED_LOCK = 0x6D656466  # pg advisory lock key of the publisher ("medf")
PUBLISH_BATCH = 50_000
"""Events numbered per publishing transaction (a bulk import's backlog is published in a few rounds)."""

CONTENT_COLUMNS = CASE_COLUMNS
"""The columns of an event that the list's content decides (``domain.feed.case_columns`` gives them)."""
_CONTENT = ", ".join(CONTENT_COLUMNS)
_HEAD = "kind, list_id, setl_list_id, revision, status"


def append_from_json(*, kind: str, list_id: str, setl_list_id: str, revision: str, status: str, content: str,
                     source: str) -> str:
    """``INSERT ... SELECT`` of one event per row of ``source`` (SQL for the FROM clause), its content columns
    read from the JSON object ``content`` (an expression over ``source``), the rest from the given expressions."""
    return (f"INSERT INTO {S}.case_event ({_HEAD}, {_CONTENT}) "
            f"SELECT {kind}, {list_id}, {setl_list_id}, {revision}, {status}, "
            f"{', '.join('c.' + k for k in CONTENT_COLUMNS)} "
            f"FROM {source}, jsonb_populate_record(NULL::{S}.case_event, {content}) c")


def append_copies(*, kind: str, status: str, source: str, list_id: str) -> str:
    """``INSERT ... SELECT`` of one event per row of ``source``: the last event of list ``list_id`` (an expression
    over ``source``) again, with a new kind and status (a status change keeps the case as it was)."""
    return (f"INSERT INTO {S}.case_event ({_HEAD}, {_CONTENT}) "
            f"SELECT {kind}, e.list_id, e.setl_list_id, e.revision, {status}, "
            f"{', '.join('e.' + k for k in CONTENT_COLUMNS)} "
            f"FROM {source} CROSS JOIN LATERAL (SELECT * FROM {S}.case_event x WHERE x.list_id = {list_id} "
            f"ORDER BY x.event_id DESC LIMIT 1) e")


_LATEST = f"""(SELECT DISTINCT ON (list_id) * FROM {S}.case_event WHERE list_id = ANY(CAST(:ids AS bigint[]))
               ORDER BY list_id, event_id DESC)"""


async def append_status_events(session: AsyncSession, list_ids: Sequence[int], status: str, kind: EventKind) -> None:
    """A revoke or reactivation: each list's last event again with the new status. (Lists never accepted, with
    no event, are not cases and get none.) The caller holds the lists' rows locked."""
    await session.execute(text(append_copies(kind=":kind", status=":status", list_id="i.list_id",
                                             source="unnest(CAST(:ids AS bigint[])) AS i(list_id)")),
                          {"ids": list(list_ids), "kind": kind.value, "status": status})


async def append_regroup_events(session: AsyncSession, revisions: Sequence[tuple[int, int]]) -> None:
    """After new groups were stored for (list id, revision) pairs: the last event of each list whose current
    revision it still is, with the revision's groups now stored. The caller holds the lists' rows locked."""
    if not revisions:
        return
    columns = ", ".join("e.groups" if c == "groups" else f"e.{c}" for c in CONTENT_COLUMNS)
    await session.execute(text(
        f"INSERT INTO {S}.case_event ({_HEAD}, {_CONTENT}) "
        f"SELECT :kind, e.list_id, e.setl_list_id, e.revision, e.status, "
        f"{columns.replace('e.groups', 'g.groups')} "
        f"FROM {_LATEST} e JOIN unnest(CAST(:ids AS bigint[]), CAST(:revs AS int[])) AS x(list_id, revision) "
        f"  ON x.list_id = e.list_id AND x.revision = e.revision "
        f"CROSS JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object("
        f"    'scheme_id', gr.scheme_id, 'scheme_version', gr.scheme_version, 'kind', gr.kind, 'drg', gr.drg, "
        f"    'adrg', gr.adrg, 'mdc', gr.mdc, 'status', gr.status) ORDER BY gr.grouped_time DESC, gr.scheme_id) "
        f"  AS groups FROM {S}.group_result gr WHERE gr.list_id = e.list_id AND gr.revision = e.revision) g"),
        {"kind": EventKind.REGROUPED.value, "ids": [i for i, _ in revisions], "revs": [r for _, r in revisions]})


async def publish(session: AsyncSession) -> int:
    """Number the committed, unnumbered events in append order (one publisher at a time); returns how many.
    The caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK})
    result = await session.execute(text(f"""
        WITH todo AS (SELECT event_id, row_number() OVER (ORDER BY event_id) AS n
                      FROM (SELECT event_id FROM {S}.case_event WHERE sequence IS NULL
                            ORDER BY event_id LIMIT :batch) u),
             base AS (SELECT coalesce(max(sequence), 0) AS b FROM {S}.case_event)
        UPDATE {S}.case_event e SET sequence = base.b + todo.n FROM todo, base WHERE e.event_id = todo.event_id"""),
        {"batch": PUBLISH_BATCH})
    return int(result.rowcount)  # type: ignore[attr-defined]


async def head(session: AsyncSession) -> int:
    return int((await session.execute(text(f"SELECT coalesce(max(sequence), 0) FROM {S}.case_event"))).scalar_one())


async def events(session: AsyncSession, region: str, *, after: int, upto: int, periods: Sequence[str],
                 limit: int) -> list[CaseEvent]:
    """Published events of a region with after < sequence <= upto, in sequence order."""
    rows = (await session.execute(text(f"""
        SELECT * FROM {S}.case_event
        WHERE region = :region AND sequence > :after AND sequence <= :upto
          AND (cardinality(CAST(:periods AS text[])) = 0 OR period = ANY(CAST(:periods AS text[])))
        ORDER BY sequence LIMIT :limit"""),
        {"region": region, "after": after, "upto": upto, "periods": list(periods), "limit": limit})).all()
    return [CaseEvent(r.sequence, EventKind(r.kind), r.event_time, _case(r)) for r in rows]


async def cases_as_of(session: AsyncSession, region: str, periods: Sequence[str], *, as_of: int, after_list: int,
                      limit: int) -> tuple[int, list[FeedCase]]:
    """The cases of up to ``limit`` lists of the region after list id ``after_list`` (by list id): each list's
    last event at or before ``as_of``, when that event is in one of the periods. Returns the last list id
    looked at (0 when there are no more) and the cases."""
    rows = (await session.execute(text(f"""
        SELECT e.* FROM (SELECT DISTINCT list_id FROM {S}.case_event
                         WHERE region = :region AND period = ANY(CAST(:periods AS text[])) AND sequence <= :as_of
                           AND list_id > :after ORDER BY list_id LIMIT :limit) c
        CROSS JOIN LATERAL (SELECT * FROM {S}.case_event x WHERE x.list_id = c.list_id AND x.sequence <= :as_of
                            ORDER BY x.event_id DESC LIMIT 1) e
        ORDER BY e.list_id"""),
        {"region": region, "periods": list(periods), "as_of": as_of, "after": after_list, "limit": limit})).all()
    # A list whose last event moved it to another period was in these periods before: a candidate, not a case.
    wanted = set(periods)
    return (rows[-1].list_id if rows else 0), [_case(r) for r in rows if r.period in wanted]


def _case(r: Any) -> FeedCase:
    return FeedCase(
        setl_list_id=r.setl_list_id, revision=r.revision, status=r.status, fixmedins_code=r.fixmedins_code,
        hospital_level=r.hospital_level, region=r.region, period=r.period, setl_id=r.setl_id, psn_no=r.psn_no,
        mdtrt_id=r.mdtrt_id, admission_date=_day(r.adm_date), discharge_date=_day(r.dscg_date), los_days=r.los_days,
        discharge_way=r.dscg_way, department=r.dept, attending_doctor=r.doctor, sex=r.sex, age_years=r.age_years,
        age_days=r.age_days, birth_weight_g=r.birth_weight_g, diagnoses=tuple(r.diagnoses),
        procedures=tuple(r.procedures), groups=tuple(group_of_json(g) for g in _json(r.groups)),
        total_fen=r.total_fen, fund_fen=r.fund_fen, personal_fen=r.personal_fen, insurance_type=r.insutype,
        money_source=MoneySource(r.money_source))


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _day(value: Any) -> date | None:
    return value if isinstance(value, date) else None
