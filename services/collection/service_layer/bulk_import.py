"""Bulk import of historical settlement lists (the synthetic prefecture's output, or a hospital's backlog).

Chunk by chunk: read, quality control (codes validated in one batch per chunk), group (one call per chunk),
write (COPY + set-based statements) and checkpoint, all of a chunk in one transaction. Interrupted, it resumes
after the last committed chunk; run again, it changes nothing (every list keeps its original msgid as its
idempotency key).
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import orjson
from sqlalchemy import text

from ..adapters.clients import GroupingClient
from ..adapters.staging import write_staged
from ..adapters.tables import SCHEMA
from ..domain.envelope import content_digest, read_envelope
from ..domain.feed import case_columns
from ..domain.limits import bounded
from ..domain.model import Finding, ParsedList, Severity
from ..domain.parsing import parse_list
from ..domain.qc import RULESET_VERSION
from .unit_of_work import CollectionUnitOfWork
from .uploads import Uploads

S = SCHEMA


@dataclass
class ImportReport:
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    resumed_at: int = 0
    already_done: bool = False
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("read", "qc", "group", "write"), 0.0))
    """Where the time went, by phase: reading and parsing, quality control, grouping, writing."""


Progress = Callable[[int], None]


class BulkImport:
    def __init__(self, new_uow: Callable[[], CollectionUnitOfWork], uploads: Uploads,
                 grouping: GroupingClient) -> None:
        self._new_uow = new_uow
        self._uploads = uploads
        self._grouping = grouping

    async def run(self, path: Path, *, chunk: int = 5000, progress: Progress | None = None,
                  stop_after_chunks: int | None = None) -> ImportReport:
        digest = file_digest(path)
        report = ImportReport()
        async with self._new_uow() as uow:
            job = (await uow.session.execute(text(
                f"SELECT lines_done, accepted, rejected, finished FROM {S}.import_job WHERE file_digest = :d"),
                {"d": digest})).first()
            if job is None:
                await uow.session.execute(text(
                    f"INSERT INTO {S}.import_job (file_digest, path, lines_done, accepted, rejected) "
                    f"VALUES (:d, :p, 0, 0, 0)"), {"d": digest, "p": str(path)})
                await uow.commit()
            elif job.finished:
                return ImportReport(job.lines_done, job.accepted, job.rejected, already_done=True)
            else:
                report.resumed_at = report.lines = job.lines_done
                report.accepted, report.rejected = job.accepted, job.rejected
        done_chunks = 0
        with _open(path) as f:
            lines = _numbered(f, skip=report.lines)
            while True:
                batch = [line for line in (next(lines, None) for _ in range(chunk)) if line is not None]
                if not batch:
                    break
                await self._chunk(batch, digest, report)
                if progress is not None:
                    progress(len(batch))
                done_chunks += 1
                if stop_after_chunks is not None and done_chunks >= stop_after_chunks:
                    return report
        async with self._new_uow() as uow:
            await uow.session.execute(text(f"UPDATE {S}.import_job SET finished = 1 WHERE file_digest = :d"),
                                      {"d": digest})
            await uow.commit()
        return report

    async def _chunk(self, batch: list[tuple[int, bytes]], digest: str, report: ImportReport) -> None:
        clock = time.perf_counter()
        readable: list[tuple[int, str, str, ParsedList]] = []
        rows: list[tuple[Any, ...]] = []
        keys: set[str] = set()
        for number, line in batch:
            key, content, parsed, findings = _read(number, line, digest)
            if key in keys:  # the same msgid twice in one chunk: the first wins, as a replay would
                report.skipped += 1
                continue
            keys.add(key)
            if parsed is None:
                rows.append(_rejected_row(number, key, content, findings))
            else:
                readable.append((number, key, content, parsed))
        clock = _lap(report, "read", clock)
        qc = dict(zip((n for n, _, _, _ in readable),
                      await self._uploads.quality_many([p for _, _, _, p in readable]), strict=True))
        clock = _lap(report, "qc", clock)
        accepted = [(n, k, c, p) for n, k, c, p in readable if not any(f.severity is Severity.ERROR for f in qc[n])]
        groups = await self._group([p for _, _, _, p in accepted])
        levels = await self._uploads.hospital_levels({p.fixmedins_code for _, _, _, p in accepted})
        clock = _lap(report, "group", clock)
        seen: dict[tuple[str, str], int] = {}
        for (number, key, content, parsed), group in zip(accepted, groups, strict=True):
            pair = (parsed.fixmedins_code, parsed.setl_id)
            wave = seen[pair] = seen.get(pair, -1) + 1  # the same list twice in a chunk: a later wave
            rows.append(_accepted_row(wave, number, key, content, parsed, findings=qc[number], group=group,
                                      level=levels[parsed.fixmedins_code]))
        for number, key, content, parsed in readable:
            if any(f.severity is Severity.ERROR for f in qc[number]):
                errors = [f for f in qc[number] if f.severity is Severity.ERROR]
                rows.append(_rejected_row(number, key, content, errors, parsed))
        async with self._new_uow() as uow:
            counts = await write_staged(uow.session, rows, waves=max(seen.values(), default=0) + 1)
            report.lines = batch[-1][0]  # the file line reached: where a resumed import starts
            report.accepted += counts.accepted
            report.rejected += counts.rejected
            report.skipped += counts.skipped
            await uow.session.execute(text(
                f"UPDATE {S}.import_job SET lines_done = :n, accepted = :a, rejected = :r, updated_time = now() "
                f"WHERE file_digest = :d"), {"n": report.lines, "a": report.accepted, "r": report.rejected,
                                             "d": digest})
            await uow.commit()
        _lap(report, "write", clock)

    async def _group(self, lists: list[ParsedList]) -> list[Any]:
        by_scheme: dict[str, list[int]] = {}
        for i, parsed in enumerate(lists):
            by_scheme.setdefault(self._uploads.scheme_for(parsed), []).append(i)
        out: list[Any] = [None] * len(lists)
        for scheme, positions in by_scheme.items():
            for i, group in zip(positions, await self._grouping.group(scheme, [lists[i].facts for i in positions]),
                                strict=True):
                out[i] = group
        return out


def _lap(report: ImportReport, phase: str, since: float) -> float:
    now = time.perf_counter()
    report.seconds[phase] += now - since
    return now


def _read(number: int, line: bytes, file_digest: str) -> tuple[str, str, ParsedList | None, list[Finding]]:
    try:
        request = orjson.loads(line)
    except orjson.JSONDecodeError as bad:
        from ..domain.model import error

        return f"import:{file_digest[:16]}:{number}", "", None, [error("ENV-000", "", "不是合法 JSON",
                                                                       f"line {number} is not JSON: {bad}")]
    envelope, problems = read_envelope(request, None)
    if envelope is None:
        return f"import:{file_digest[:16]}:{number}", "", None, problems
    key = f"msgid:{envelope.fixmedins_code}:{envelope.msgid}"
    content = content_digest(envelope.infno, envelope.fixmedins_code, envelope.body)
    parsed, findings = parse_list(envelope.fixmedins_code, envelope.fixmedins_name, envelope.body)
    return key, content, parsed, findings


def _accepted_row(wave: int, number: int, key: str, content: str, p: ParsedList, *, findings: list[Finding],
                  group: Any, level: int) -> tuple[Any, ...]:
    f = p.facts
    warnings = [x for x in findings if x.severity is Severity.WARNING]
    return (wave, number, key, content, True, p.fixmedins_code, p.setl_id, p.psn_no, p.region, p.period,
            orjson.dumps(p.body).decode(), p.total_fen, p.fund_fen, f.los_days, f.sex, f.age_years, p.discharge_date,
            f.discharge_type, f.diagnoses[0] if f.diagnoses else "", group.scheme_id, group.scheme_version, group.drg,
            group.adrg, group.mdc, group.status, _findings_json(warnings), RULESET_VERSION, group.kind,
            orjson.dumps(case_columns(p, [group], level)).decode())


def _rejected_row(number: int, key: str, content: str, findings: list[Finding],
                  parsed: ParsedList | None = None) -> tuple[Any, ...]:
    code, setl_id = (parsed.fixmedins_code, parsed.setl_id) if parsed else ("", "")
    return (0, number, key, content or key, False, code, setl_id, "", "", "", None, 0, 0, None, None, None, None,
            "", "", "", "", "", "", "", "", _findings_json(list(bounded(findings))), RULESET_VERSION, "", None)


def _findings_json(findings: list[Finding]) -> str:
    return orjson.dumps([{"code": f.code, "severity": f.severity.value, "field": f.field,
                          "message_zh": f.message_zh, "message_en": f.message_en} for f in findings]).decode()


def file_digest(path: Path) -> str:
    """Identity of an import file: its size and the digest of its first megabyte (cheap on 4 GB files)."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
    return h.hexdigest()


def _open(path: Path) -> IO[bytes]:
    """The file, gunzipped on the fly when it ends in .gz (a context manager either way)."""
    return cast(IO[bytes], gzip.open(path, "rb")) if path.suffix == ".gz" else path.open("rb")


def _numbered(f: IO[bytes], skip: int) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(f, start=1):
        if number <= skip or not line.strip():
            continue
        yield number, line
