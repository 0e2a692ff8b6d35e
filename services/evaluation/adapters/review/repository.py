"""Persistence of smart review (schema ``review``): knowledge, rule sets, runs, flags and their events, stays."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from libs.national.fees import scaled_text

from ...domain.review.knowledge import KnowledgeLibrary
from ...domain.review.model import Flag
from ...domain.review.workflow import Event, FlagState, Role, Step, Verdict
from .tables import SCHEMA, flag, flag_event, knowledge_item, run_rule, stay

S = SCHEMA


@dataclass(frozen=True)
class StoredKnowledge:
    version_id: str
    effective_date: date
    item_count: int
    digest: str
    items_csv: str
    creator: str
    create_time: datetime


@dataclass(frozen=True)
class StoredRuleSet:
    ruleset_id: str
    version: str
    source: bytes
    source_format: str
    document: Any
    digest: str
    description: str
    creator: str
    create_time: datetime
    active: bool
    activate_time: datetime | None
    activation: str

    @property
    def name(self) -> str:
        return rule_set_name(self.ruleset_id, self.version)


def rule_set_name(ruleset_id: str, version: str) -> str:
    return f"ruleSets/{ruleset_id}/versions/{version}"


@dataclass(frozen=True)
class StoredRun:
    name: str
    region: str
    period: str
    rule_set: str
    as_of_sequence: int
    list_count: int
    lists_with_details: int
    flag_count: int
    amount_fen: int
    knowledge_versions: list[str]
    end_time: datetime


@dataclass(frozen=True)
class StoredFlag:
    flag_id: int
    region: str
    run_name: str
    rule_set: str
    fixmedins_code: str
    setl_id: str
    mdtrt_id: str
    psn_no: str
    period: str
    rule_id: str
    rule_version: str
    rule_name: str
    category: str
    severity: str
    found_fen: int
    amount_fen: int
    evidence: str
    lines: list[dict[str, Any]]
    related_setl_id: str
    state: FlagState
    create_time: datetime

    @property
    def name(self) -> str:
        return f"regions/{self.region}/flags/{self.flag_id}"


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    rule_version: str
    category: str
    lists_reviewed: int
    flags: int
    decided: int
    confirmed: int
    amount_fen: int
    confirmed_fen: int


def fingerprint(f: Flag) -> str:
    """What makes a flag the same flag within a run (so a resumed run stores it once)."""
    key = "\x1f".join((f.rule_id, f.rule_version, f.fixmedins_code, f.setl_id, f.evidence))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, sql: str, **params: Any) -> Any:
        return (await self.session.execute(text(sql), params)).first()

    async def _all(self, sql: str, **params: Any) -> Sequence[Any]:
        return (await self.session.execute(text(sql), params)).all()

    # knowledge --------------------------------------------------------------------------------------------------
    async def knowledge(self, version_id: str) -> StoredKnowledge | None:
        row = await self._one(f"SELECT * FROM {S}.knowledge_version WHERE version_id = :v", v=version_id)
        return None if row is None else StoredKnowledge(**row._mapping)

    async def knowledge_versions(self, after: str = "", limit: int = 10_000) -> list[StoredKnowledge]:
        """Newest effective date first; ``after`` is the cursor "yyyy-MM-dd|version"."""
        rows = await self._all(
            f"SELECT * FROM {S}.knowledge_version WHERE (:after = '' OR "
            f"  (effective_date::text || '|' || version_id) < :after) "
            f"ORDER BY effective_date DESC, version_id DESC LIMIT :n", after=after, n=limit)
        return [StoredKnowledge(**r._mapping) for r in rows]

    async def knowledge_version_ids(self) -> list[str]:
        """Every stored version's id (no items: what a process already holds it need not read again)."""
        return [r.version_id for r in await self._all(f"SELECT version_id FROM {S}.knowledge_version")]

    async def save_knowledge(self, library: KnowledgeLibrary, items_csv: str, creator: str) -> None:
        await self.session.execute(text(
            f"INSERT INTO {S}.knowledge_version (version_id, effective_date, item_count, digest, items_csv, creator) "
            f"VALUES (:v, :d, :n, :digest, :csv, :who)"),
            {"v": library.version, "d": library.effective_from, "n": len(library), "digest": library.digest,
             "csv": items_csv, "who": creator})
        rows = [{"version_id": library.version, "code": i.code, "name": i.name, "kind": i.kind,
                 "med_chrgitm_type": i.category, "price": "" if i.price is None else scaled_text(i.price),
                 "sex_limit": i.sex_limit or 0, "min_age": i.min_age, "max_age": i.max_age,
                 "max_daily_cnt": "" if i.max_daily_cnt is None else scaled_text(i.max_daily_cnt),
                 "exclusive_with": list(i.exclusive_with)} for i in library.items.values()]
        if rows:
            await self.session.execute(knowledge_item.insert(), rows)

    async def knowledge_items(self, version_id: str, after: str, limit: int) -> list[Any]:
        return list(await self._all(
            f"SELECT * FROM {S}.knowledge_item WHERE version_id = :v AND code > :after ORDER BY code LIMIT :n",
            v=version_id, after=after, n=limit))

    # rule sets --------------------------------------------------------------------------------------------------
    async def rule_set(self, ruleset_id: str, version: str) -> StoredRuleSet | None:
        row = await self._one(f"SELECT * FROM {S}.rule_set WHERE ruleset_id = :i AND version = :v",
                              i=ruleset_id, v=version)
        return None if row is None else _rule_set(row)

    async def active_rule_set(self) -> StoredRuleSet | None:
        row = await self._one(f"SELECT * FROM {S}.rule_set WHERE active")
        return None if row is None else _rule_set(row)

    async def rule_sets(self, after: str, limit: int) -> list[StoredRuleSet]:
        """Newest first; ``after`` is the cursor "create_time|id|version" of the last one shown."""
        rows = await self._all(
            f"SELECT * FROM {S}.rule_set WHERE (:after = '' OR (to_char(create_time AT TIME ZONE 'UTC', "
            f"'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '|' || ruleset_id || '|' || version) < :after) "
            f"ORDER BY create_time DESC, ruleset_id DESC, version DESC LIMIT :n", after=after, n=limit)
        return [_rule_set(r) for r in rows]

    async def save_rule_set(self, ruleset_id: str, version: str, *, source: bytes, source_format: str,
                            document: Any, digest: str, description: str, creator: str) -> None:
        await self.session.execute(text(
            f"INSERT INTO {S}.rule_set (ruleset_id, version, source, source_format, document, digest, description, "
            f"creator) VALUES (:i, :v, :src, :fmt, CAST(:doc AS jsonb), :digest, :desc, :who)"),
            {"i": ruleset_id, "v": version, "src": source, "fmt": source_format,
             "doc": orjson.dumps(document).decode(), "digest": digest, "desc": description, "who": creator})

    async def rule_versions(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        pairs = list(keys)
        rows = await self._all(
            f"SELECT r.* FROM {S}.rule_version r JOIN unnest(CAST(:ids AS text[]), CAST(:vs AS text[])) AS k(i, v) "
            f"ON r.rule_id = k.i AND r.version = k.v", ids=[p[0] for p in pairs], vs=[p[1] for p in pairs])
        return {(r.rule_id, r.version): r.definition for r in rows}

    async def save_rule_versions(self, rows: Sequence[tuple[str, str, str, Any]], rule_set: str) -> None:
        for rule_id, version, kind, definition in rows:
            await self.session.execute(text(
                f"INSERT INTO {S}.rule_version (rule_id, version, kind, definition, first_rule_set) "
                f"VALUES (:i, :v, :k, CAST(:d AS jsonb), :set) ON CONFLICT DO NOTHING"),
                {"i": rule_id, "v": version, "k": kind, "d": orjson.dumps(definition).decode(), "set": rule_set})

    async def activate(self, ruleset_id: str, version: str, activation: str) -> None:
        await self.session.execute(text(f"UPDATE {S}.rule_set SET active = false WHERE active"))
        await self.session.execute(text(
            f"UPDATE {S}.rule_set SET active = true, activate_time = now(), activation = :a "
            f"WHERE ruleset_id = :i AND version = :v"), {"i": ruleset_id, "v": version, "a": activation})

    # runs and flags ---------------------------------------------------------------------------------------------
    async def run(self, name: str) -> StoredRun | None:
        row = await self._one(f"SELECT * FROM {S}.review_run WHERE name = :n", n=name)
        return None if row is None else StoredRun(**row._mapping)

    async def runs(self, region: str, after: str, limit: int) -> list[StoredRun]:
        rows = await self._all(
            f"SELECT * FROM {S}.review_run WHERE region = :r AND (:after = '' OR name < :after) "
            f"ORDER BY name DESC LIMIT :n", r=region, after=after, n=limit)
        return [StoredRun(**r._mapping) for r in rows]

    async def clear_run(self, name: str) -> None:
        """Forget a run's partial flags (a resumed execution stores them again)."""
        await self.session.execute(text(f"DELETE FROM {S}.flag WHERE run_name = :n AND state = 'OPEN'"), {"n": name})
        await self.session.execute(text(f"DELETE FROM {S}.run_rule WHERE run_name = :n"), {"n": name})

    async def save_flags(self, region: str, run_name: str, rule_set: str, periods: dict[tuple[str, str], str],
                         flags: Sequence[Flag]) -> int:
        """Insert the flags (once per run and fingerprint); how many were new."""
        if not flags:
            return 0
        rows = [{"region": region, "run_name": run_name, "rule_set": rule_set, "fixmedins_code": f.fixmedins_code,
                 "setl_id": f.setl_id, "mdtrt_id": f.mdtrt_id, "psn_no": f.psn_no,
                 "period": periods.get((f.fixmedins_code, f.setl_id), ""), "rule_id": f.rule_id,
                 "rule_version": f.rule_version, "rule_name": f.rule_name, "category": f.category.value,
                 "severity": f.severity.value, "found_fen": f.amount, "amount_fen": f.amount, "evidence": f.evidence,
                 "lines": [{"sn": x.sn, "role": x.role, "amount": x.amount} for x in f.lines],
                 "related_setl_id": f.related_setl_id, "state": FlagState.OPEN.value, "fingerprint": fingerprint(f)}
                for f in flags]
        from sqlalchemy.dialects.postgresql import insert

        statement = insert(flag).on_conflict_do_nothing(constraint="flag_run_fingerprint_key")
        result = await self.session.execute(statement, rows)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def save_run(self, run: StoredRun, rules: Sequence[tuple[str, str, str, int]]) -> None:
        await self.session.execute(text(
            f"INSERT INTO {S}.review_run (name, region, period, rule_set, as_of_sequence, list_count, "
            f"lists_with_details, flag_count, amount_fen, knowledge_versions) VALUES (:name, :region, :period, "
            f":rule_set, :seq, :lists, :details, :flags, :amount, :knowledge) ON CONFLICT (name) DO NOTHING"),
            {"name": run.name, "region": run.region, "period": run.period, "rule_set": run.rule_set,
             "seq": run.as_of_sequence, "lists": run.list_count, "details": run.lists_with_details,
             "flags": run.flag_count, "amount": run.amount_fen, "knowledge": run.knowledge_versions})
        if rules:
            await self.session.execute(run_rule.insert(), [
                {"run_name": run.name, "rule_id": i, "rule_version": v, "category": c, "lists_reviewed": n}
                for i, v, c, n in rules])

    async def run_totals(self, name: str) -> tuple[int, int]:
        row = await self._one(f"SELECT count(*) AS n, coalesce(sum(found_fen), 0) AS fen FROM {S}.flag "
                              f"WHERE run_name = :n", n=name)
        return int(row.n), int(row.fen)

    async def flag(self, flag_id: int, lock: bool = False) -> StoredFlag | None:
        row = await self._one(f"SELECT * FROM {S}.flag WHERE flag_id = :i" + (" FOR UPDATE" if lock else ""),
                              i=flag_id)
        return None if row is None else _flag(row)

    async def flags(self, region: str, *, periods: Sequence[str], hospital: str, category: str, rule_id: str,
                    state: str, after: tuple[str, str, int] | None, limit: int) -> list[StoredFlag]:
        """By settlement month, institution, flag id; ``after`` is the last (period, institution, id) shown."""
        a = after or ("", "", 0)
        rows = await self._all(
            f"SELECT * FROM {S}.flag WHERE region = :region "
            f"AND (cardinality(CAST(:periods AS text[])) = 0 OR period = ANY(CAST(:periods AS text[]))) "
            f"AND (:hospital = '' OR fixmedins_code = :hospital) AND (:category = '' OR category = :category) "
            f"AND (:rule = '' OR rule_id = :rule) AND (:state = '' OR state = :state) "
            f"AND (period, fixmedins_code, flag_id) > (:p, :h, :i) "
            f"ORDER BY period, fixmedins_code, flag_id LIMIT :n",
            region=region, periods=list(periods), hospital=hospital, category=category, rule=rule_id, state=state,
            p=a[0], h=a[1], i=a[2], n=limit)
        return [_flag(r) for r in rows]

    async def events(self, flag_id: int) -> list[Event]:
        rows = await self._all(f"SELECT * FROM {S}.flag_event WHERE flag_id = :i ORDER BY event_id", i=flag_id)
        return [Event(Step(r.step), Verdict(r.verdict) if r.verdict else None, r.actor, Role(r.role), r.event_time,
                      r.reason, r.amount_fen, FlagState(r.state_after)) for r in rows]

    async def event_by_request(self, request_id: str) -> tuple[int, str] | None:
        row = await self._one(f"SELECT flag_id, digest FROM {S}.flag_event WHERE request_id = :r", r=request_id)
        return None if row is None else (int(row.flag_id), row.digest)

    async def add_event(self, flag_id: int, event: Event, request_id: str | None, digest: str) -> None:
        await self.session.execute(flag_event.insert().values(
            flag_id=flag_id, step=event.step.value, verdict=event.verdict.value if event.verdict else None,
            actor=event.actor, role=event.role.value, reason=event.reason, amount_fen=event.amount,
            state_after=event.state.value, request_id=request_id, digest=digest, event_time=event.time,
            # the flag's region (the distribution key of a region-distributed layout)
            region=select(flag.c.region).where(flag.c.flag_id == flag_id).scalar_subquery()))
        await self.session.execute(text(
            f"UPDATE {S}.flag SET state = :s, amount_fen = coalesce(:amount, amount_fen) WHERE flag_id = :i"),
            {"s": event.state.value, "amount": event.amount, "i": flag_id})

    async def deductions(self, region: str, periods: Sequence[str]) -> list[tuple[str, int, int]]:
        """(institution, confirmed fen, confirmed flags) per hospital. A rule's findings on a list count from one
        run only, that of the oldest of their confirmed flags: a month's run and its year's (or two rule set
        versions') raise the same finding twice, and confirming both must not deduct it twice."""
        rows = await self._all(
            f"WITH confirmed AS (SELECT fixmedins_code, setl_id, rule_id, run_name, amount_fen, flag_id "
            f"  FROM {S}.flag WHERE region = :r AND period = ANY(CAST(:p AS text[])) AND state = 'CONFIRMED'), "
            f"counted AS (SELECT DISTINCT ON (fixmedins_code, setl_id, rule_id) fixmedins_code, setl_id, rule_id, "
            f"  run_name FROM confirmed ORDER BY fixmedins_code, setl_id, rule_id, flag_id) "
            f"SELECT fixmedins_code, sum(amount_fen) AS fen, count(*) AS n FROM confirmed "
            f"JOIN counted USING (fixmedins_code, setl_id, rule_id, run_name) "
            f"GROUP BY fixmedins_code ORDER BY fixmedins_code", r=region, p=list(periods))
        return [(r.fixmedins_code, int(r.fen), int(r.n)) for r in rows]

    async def rule_counts(self, region: str, period_filter: str | None) -> list[RuleCount]:
        """Per rule and version over the region's runs (of one period, when given)."""
        rows = await self._all(
            f"WITH runs AS (SELECT name FROM {S}.review_run WHERE region = :r AND (:p = '' OR period = :p)), "
            f"denominator AS (SELECT rule_id, rule_version, min(category) AS category, sum(lists_reviewed) AS lists "
            f"  FROM {S}.run_rule WHERE run_name IN (SELECT name FROM runs) GROUP BY rule_id, rule_version), "
            f"numerator AS (SELECT rule_id, rule_version, count(*) AS flags, "
            f"  count(*) FILTER (WHERE state IN ('CONFIRMED', 'DISMISSED')) AS decided, "
            f"  count(*) FILTER (WHERE state = 'CONFIRMED') AS confirmed, coalesce(sum(found_fen), 0) AS fen, "
            f"  coalesce(sum(amount_fen) FILTER (WHERE state = 'CONFIRMED'), 0) AS confirmed_fen "
            f"  FROM {S}.flag WHERE run_name IN (SELECT name FROM runs) GROUP BY rule_id, rule_version) "
            f"SELECT d.*, coalesce(n.flags, 0) AS flags, coalesce(n.decided, 0) AS decided, "
            f"  coalesce(n.confirmed, 0) AS confirmed, coalesce(n.fen, 0) AS fen, "
            f"  coalesce(n.confirmed_fen, 0) AS confirmed_fen "
            f"FROM denominator d LEFT JOIN numerator n USING (rule_id, rule_version) ORDER BY rule_id, rule_version",
            r=region, p=period_filter or "")
        return [RuleCount(r.rule_id, r.rule_version, r.category, int(r.lists), int(r.flags), int(r.decided),
                          int(r.confirmed), int(r.fen), int(r.confirmed_fen)) for r in rows]

    # stays projected from the case feed -------------------------------------------------------------------------
    async def cursor(self, region: str) -> int:
        row = await self._one(f"SELECT after_sequence FROM {S}.feed_cursor WHERE region = :r", r=region)
        return 0 if row is None else int(row.after_sequence)

    async def cursor_regions(self) -> list[str]:
        return [r.region for r in await self._all(f"SELECT region FROM {S}.feed_cursor ORDER BY region")]

    async def save_cursor(self, region: str, after: int) -> None:
        await self.session.execute(text(
            f"INSERT INTO {S}.feed_cursor (region, after_sequence) VALUES (:r, :a) ON CONFLICT (region) DO UPDATE "
            f"SET after_sequence = excluded.after_sequence, update_time = now()"), {"r": region, "a": after})

    async def upsert_stays(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        from sqlalchemy.dialects.postgresql import insert

        statement = insert(stay)
        columns = {c.name: statement.excluded[c.name] for c in stay.columns if not c.primary_key}
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["fixmedins_code", "setl_id"], set_=columns,
            where=stay.c.sequence < statement.excluded.sequence), list(rows))



def _rule_set(row: Any) -> StoredRuleSet:
    values = dict(row._mapping)
    values["source"] = bytes(values["source"])
    return StoredRuleSet(**values)


def _flag(row: Any) -> StoredFlag:
    values = dict(row._mapping)
    values.pop("fingerprint")
    values["state"] = FlagState(values["state"])
    return StoredFlag(**values)


_PERSON_STAYS = (select(stay)
                 .where(stay.c.fixmedins_code == bindparam("h"), stay.c.psn_no == bindparam("p"),
                        stay.c.status == "ACTIVE")
                 .order_by(stay.c.adm_date))


class PersonStays:
    """A person's active stays at a hospital (projected table ``stay``, earliest admission first): CheckStay's one
    read, a core SELECT on a pooled connection in autocommit, without an ORM session or a transaction around it
    (one round trip instead of BEGIN, SELECT and ROLLBACK)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def __call__(self, hospital: str, psn_no: str) -> Sequence[Any]:
        async with self._engine.connect() as connection:
            return (await connection.execute(_PERSON_STAYS, {"h": hospital, "p": psn_no})).all()
