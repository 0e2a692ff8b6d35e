"""Bulk import (resumable, exactly once) and bulk regrouping, over real servers and PostgreSQL."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from libs.common.runtime import Runtime
from services.collection.adapters import staging
from services.collection.domain.reading import read_lines
from services.collection.service_layer import bulk_import
from services.collection.service_layer.bulk_import import BulkImport
from services.collection.service_layer.regroup import regroup
from services.grouping.bootstrap import build_registry

from ..support import case_of
from .lists import fresh, own_ids, post_all, scheme_id

App = tuple[Any, str, Any]


def write(path: Path, rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> Path:
    data = b"".join(orjson.dumps(r) + b"\n" for r, _ in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


async def count_lists(database_url: str, lists: list[dict[str, Any]]) -> tuple[int, int]:
    """Stored lists and revisions among these uploads (setl_id is unique per institution only)."""
    codes = [r["fixmedins_code"] for r in lists]
    setl_ids = [r["input"]["setlinfo"]["setl_id"] for r in lists]
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(DISTINCT l.list_id) AS lists, count(*) AS revisions FROM collection.settlement_list l "
            "JOIN collection.list_revision r USING (list_id) "
            "JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id", codes, setl_ids)
    finally:
        await conn.close()
    return int(row["lists"]), int(row["revisions"])


async def test_an_interrupted_import_resumes_and_stores_every_list_once(
        collection_app: App, database_url: str, tmp_path: Path) -> None:
    _, base, app = collection_app
    rows = fresh(seed=51, cases=1500)
    path = write(tmp_path / "lists.jsonl.gz", rows)
    importer = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply)
    chunks_done: list[int] = []

    def interrupt_after_two(lines: int) -> None:
        chunks_done.append(lines)
        if len(chunks_done) == 2:
            first.cancel()  # interrupted in the third chunk (its transaction rolls back)

    first = asyncio.create_task(importer.run(path, chunk=400, progress=interrupt_after_two))
    with pytest.raises(asyncio.CancelledError):
        await first
    second = await importer.run(path, chunk=400)
    # Interrupted in the third chunk, or (rarely) as its commit was under way: resumed after the last commit.
    assert second.resumed_at in (800, 1200) and second.lines == 1500 and not second.already_done
    clean = [r for r, t in rows if not t["faults"]]
    assert second.accepted == len(clean) and second.rejected == len(rows) - len(clean)
    assert await count_lists(database_url, clean) == (len(clean), len(clean))
    again = await importer.run(path, chunk=400)
    assert again.already_done
    replay = (await post_all(base, [clean[0]]))[0]  # an imported msgid posted again is a replay
    assert replay == (await post_all(base, [clean[0]]))[0]  # the stored answer, every time
    other = next(r for r, t in fresh(seed=58, cases=30) if not t["faults"])
    uploaded = (await post_all(base, [other]))[0]
    assert replay["infcode"] == 0 and replay.keys() == uploaded.keys()  # the envelope of an upload at the door
    assert replay["output"].keys() == uploaded["output"].keys() and replay["output"]["status"] == "ACTIVE"
    assert replay["inf_refmsgid"][:6] == uploaded["inf_refmsgid"][:6] and len(replay["inf_refmsgid"]) == 30
    assert await count_lists(database_url, clean) == (len(clean), len(clean))
    stored = await app.lists.get(fixmedins_code=clean[0]["fixmedins_code"],
                                 setl_id=clean[0]["input"]["setlinfo"]["setl_id"])
    assert stored.group is not None and stored.history[0][2] == "import"
    assert await count_events(database_url, clean) == {"ACCEPTED": len(clean)}  # one each, despite the resume


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pids: set[int]) -> bool:
    return any(Path(f"/proc/{pid}").exists() for pid in pids)


async def count_events(database_url: str, lists: list[dict[str, Any]]) -> dict[str, int]:
    """Feed events of these lists by kind."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT e.kind, count(*) AS n FROM collection.case_event e "
            "JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON e.fixmedins_code = u.code AND e.setl_id = u.setl_id GROUP BY e.kind",
            [r["fixmedins_code"] for r in lists], [r["input"]["setlinfo"]["setl_id"] for r in lists])
    finally:
        await conn.close()
    return {r["kind"]: int(r["n"]) for r in rows}


async def test_a_second_file_with_the_same_msgids_adds_nothing(collection_app: App, database_url: str,
                                                              tmp_path: Path) -> None:
    _, _, app = collection_app
    rows = fresh(seed=52, cases=300)
    importer = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply)
    await importer.run(write(tmp_path / "a.jsonl", rows), chunk=1000)
    report = await importer.run(write(tmp_path / "b.jsonl", [*rows[:150], rows[0]]), chunk=1000)
    assert report.accepted == 0 and report.rejected == 0 and report.skipped == 151


async def test_a_changed_file_of_the_same_size_is_imported(collection_app: App, database_url: str,
                                                           tmp_path: Path) -> None:
    """A file is known by the digest of its whole content: one byte changed deep inside (a msgid, so the line
    is a new upload of the same list) keeps the size and the first lines, and is imported as a new file."""
    _, _, app = collection_app
    rows = [r for r, t in fresh(seed=59, cases=200) if not t["faults"]]
    path = write(tmp_path / "same.jsonl", [(r, {}) for r in rows])
    importer = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply)
    first = await importer.run(path, chunk=50)
    assert first.accepted == len(rows) and not first.already_done and first.lines == len(rows)
    last = rows[-1]
    changed = {**last, "msgid": last["msgid"][:-1] + ("1" if last["msgid"][-1] != "1" else "2")}
    size = path.stat().st_size
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [*rows[:-1], changed]))
    assert path.stat().st_size == size
    second = await importer.run(path, chunk=1000)
    assert not second.already_done and second.skipped == len(rows) - 1 and second.accepted == 1
    assert await count_lists(database_url, [last]) == (1, 2)  # the changed line: a new revision of its list


async def test_chunks_prepared_in_a_worker_process_are_stored_as_those_prepared_here(
        collection_app: App, database_url: str, tmp_path: Path) -> None:
    """With a worker process, chunks are prepared there and here (the first here, while the worker starts):
    every list is stored once, with the status, group and findings this process gives it, and its msgid answers
    a replay with the door's envelope."""
    _, base, app = collection_app
    rows = fresh(seed=63, cases=700)
    own_ids([r for r, _ in rows], "WORKER")  # synth numbers stays from 1: not another test's lists
    path = write(tmp_path / "w.jsonl", rows)
    importer = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply,
                          settings=app.runtime.settings)
    lines = list(enumerate(path.read_bytes().splitlines(keepends=True), start=1))
    expected = (await importer.chunks.prepare(read_lines(lines, "-" * 64))).rows  # as this process prepares them
    report = await importer.run(path, chunk=50, workers=1)
    assert 0 < report.worker_chunks < 14, "the chunks were not shared between this process and the worker"
    clean = [r for r, t in rows if not t["faults"]]
    assert report.accepted == len(clean) and report.rejected == len(rows) - len(clean)
    assert await count_lists(database_url, clean) == (len(clean), len(clean))
    assert await count_events(database_url, clean) == {"ACCEPTED": len(clean)}
    conn = await asyncpg.connect(database_url)
    try:
        stored = {(r["fixmedins_code"], r["setl_id"]): (r["status"], r["drg"], r["findings"]) for r in await conn.fetch(
            "SELECT l.fixmedins_code, l.setl_id, l.status, g.drg, (SELECT array_agg(f.code ORDER BY f.code) "
            "FROM collection.list_finding f WHERE f.list_id = l.list_id AND f.revision = l.current_revision) "
            "AS findings FROM collection.settlement_list l LEFT JOIN collection.group_result g "
            "ON g.list_id = l.list_id AND g.revision = l.current_revision")}
        responses = {r["key"]: orjson.loads(r["response"]) for r in await conn.fetch(
            "SELECT key, response FROM collection.idempotency WHERE key = ANY($1::text[])",
            [row.stage[3] for row in expected])}
    finally:
        await conn.close()
    for row in expected:
        code, setl_id = row.stage[6], row.stage[7]
        if row.stage[1]:  # accepted here: stored alike, whichever process prepared it
            assert stored[code, setl_id] == (row.stage[5], row.group[3] if row.group else None,
                                             sorted(f[0] for f in row.findings) or None)
        assert responses[row.stage[3]]["infcode"] == (0 if row.stage[1] else -1)
    replay = (await post_all(base, [clean[-1]]))[0]  # from the last chunk: one the worker may well have had
    assert replay == (await post_all(base, [clean[-1]]))[0] and replay["output"]["status"] == "ACTIVE"


async def test_an_import_whose_worker_cannot_start_prepares_every_chunk_here(
        collection_app: App, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A worker that cannot start (here: its database is unreachable) fails no import: the chunks it was given
    are prepared here, with a warning that says so."""
    from pydantic import SecretStr

    _, _, app = collection_app
    rows = fresh(seed=64, cases=300)
    own_ids([r for r, _ in rows], "NOWRK")
    broken = app.runtime.settings.model_copy(update={"database_url": SecretStr("postgresql://nobody@127.0.0.1:1/x")})
    importer = BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply, settings=broken)
    report = await importer.run(write(tmp_path / "b.jsonl", rows), chunk=40, workers=1)
    clean = [r for r, t in rows if not t["faults"]]
    assert report.worker_chunks == 0 and report.accepted == len(clean) and report.lines == len(rows)
    assert await count_lists(database_url, clean) == (len(clean), len(clean))
    assert "worker processes failed" in caplog.text


async def test_regrouping_stores_the_other_schemes_groups(collection_app: App, runtime: Runtime, database_url: str,
                                                          tmp_path: Path) -> None:
    _, _, app = collection_app
    registry = build_registry(runtime)
    others = [s for s in ("chs-drg-1.0", "chs-drg-zhejiang-2022", *sorted(registry.schemes))
              if s in registry.schemes and s != scheme_id()]
    if not others:
        pytest.skip("one scheme loaded (the bundled sample): no other scheme to regroup into")
    target = others[0]  # another scheme than the lists were grouped under
    rows = fresh(seed=53, cases=400)
    await BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply).run(
        write(tmp_path / "r.jsonl", rows), chunk=1000)
    region, period = rows[0][0]["fixmedins_code"][1:5] + "00", rows[0][1]["month"]
    progress: list[int] = []
    done = await regroup(app.new_uow, app.grouping, region=region, period=period, scheme_id=target,
                         progress=progress.append)
    assert done >= sum(1 for _, t in rows if not t["faults"]) and sum(progress) == done
    async with app.new_uow() as uow:
        cases = await uow.lists.cases(region, period, 0, 100_000, scheme_id=target)
    assert cases and all(c.scheme_id == target for c in cases)
    expected = {str(c.list_id): g.drg for c, g in zip(cases, registry.group(target, [case_of(c.body) for c in cases]),
                                                      strict=True)}
    assert {str(c.list_id): c.drg for c in cases} == expected  # every case, as the engine groups it under target
    # The feed says so too: each regrouped case's last event carries the new group first, the old one kept.
    conn = await asyncpg.connect(database_url)
    try:
        last = await conn.fetch(
            "SELECT DISTINCT ON (list_id) list_id, kind, groups FROM collection.case_event "
            "WHERE list_id = ANY($1::bigint[]) ORDER BY list_id, event_id DESC", [c.list_id for c in cases])
    finally:
        await conn.close()
    assert len(last) == len(cases)
    for event in last:
        groups = orjson.loads(event["groups"])
        assert event["kind"] == "REGROUPED" and groups[0]["scheme_id"] == target
        assert groups[0]["drg"] == expected[str(event["list_id"])]
        assert [g["scheme_id"] for g in groups] == [target, scheme_id()]  # the new group first, the old kept


async def test_the_import_and_regroup_commands(runtime: Runtime, database_url: str, coding_server: Any,
                                               grouping_server: Any, tmp_path: Path) -> None:
    """`medpay collection import` and `regroup` as an operator runs them (real processes, progress, summary)."""
    import asyncio
    import os
    import sys

    from ..support import ROOT

    rows = fresh(seed=54, cases=500)
    path = write(tmp_path / "cli.jsonl", rows)
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding_server.port}",
           "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping_server.port}"}

    async def medpay(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.cli", *args, cwd=ROOT, env=env,
                                                    stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        return proc.returncode or 0, err.decode()

    code, out = await medpay("collection", "import", str(path), "--chunk", "200")
    clean = sum(1 for _, t in rows if not t["faults"])
    assert code == 0 and f"{clean:,} accepted" in out and f"{len(rows) - clean:,} rejected" in out, out
    code, out = await medpay("collection", "import", str(path))
    assert code == 0 and "nothing to do" in out
    region, period = rows[0][0]["fixmedins_code"][1:5] + "00", rows[0][1]["month"]
    code, out = await medpay("collection", "regroup", "--region", region, "--period", period, "--scheme",
                             next(iter(build_registry(runtime).schemes)))
    assert code == 0 and "regrouped" in out, out
    code, out = await medpay("collection", "import", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "does not exist" in out


async def test_records_and_his_lists_from_files_join_and_what_waits_is_shown(
        runtime: Runtime, database_url: str, coding_server: Any, grouping_server: Any, tmp_path: Path) -> None:
    """`medpay collection import-records`, `import --records` and `pending` as an operator runs them, on a
    synthetic month written as the two systems send it (HIS-form lists, the core system's records)."""
    import asyncio
    import os
    import re
    import sys

    from services.synth.generator import Generator
    from services.synth.params import SynthParams
    from services.synth.sources import Output, load_reference
    from services.synth.writer import write_run

    from ..support import ROOT, reference_dir
    from .lists import scheme_id

    params = SynthParams(cases=300, months=1, hospitals=5, seed=57, scheme=scheme_id())
    ref, _ = load_reference(params, reference_dir())
    with Output(tmp_path, gzip_output=True) as out:
        written = write_run(Generator(params, ref), out)
    lists_file, records_file = tmp_path / "settlement_lists.jsonl.gz", tmp_path / "settlement_records.jsonl.gz"
    requests = [orjson.loads(line) for line in gzip.decompress(lists_file.read_bytes()).splitlines()]
    records = [orjson.loads(line) for line in gzip.decompress(records_file.read_bytes()).splitlines()]
    half = len(requests) // 2
    first_lists = tmp_path / "first.jsonl"
    first_lists.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in requests[:half]))
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding_server.port}",
           "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping_server.port}"}

    async def medpay(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.cli", *args, cwd=ROOT, env=env,
                                                    stderr=asyncio.subprocess.STDOUT, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    # Half the lists first, without records: they wait.
    code, out = await medpay("collection", "import", str(first_lists))
    counts = re.search(r"(\d+) accepted, (\d+) pending .* (\d+) rejected", out)
    assert code == 0 and counts is not None, out
    accepted, waiting, rejected = map(int, counts.groups())
    assert accepted == 0 and waiting + rejected == half and waiting >= 0.9 * half, out
    code, out = await medpay("collection", "pending", "--limit", "3")
    assert code == 0 and "lists waiting for their settlement record:" in out, out
    # And how long they have waited: the oldest one's wait in the summary line.
    assert re.search(r"lists waiting for their settlement record: [\d,]+ \(oldest \d+[dhm] \d+[hms]\)", out), out
    # Then the core system's records: the waiting lists are checked and grouped; the others' records wait.
    code, out = await medpay("collection", "import-records", str(records_file))
    stays = {(r["fixmedins_code"], r["setlinfo"]["setl_id"]) for r in records}
    assert code == 0 and f"{len(stays):,} records created" in out, out
    assert written.records == len(records)
    code, out = await medpay("collection", "import-records", str(records_file))
    assert code == 0 and "nothing to do" in out, out
    # Then every list (the first half again: already present), joined with the records on the way in.
    code, out = await medpay("collection", "import", str(lists_file), "--records", str(records_file))
    assert code == 0 and f"{half:,} already present" in out, out

    reversed_ids = {(r["fixmedins_code"], r["setlinfo"]["setl_id"]) for r in records if r["infno"] == "2305"}
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT l.fixmedins_code, l.setl_id, l.status, "
            "(SELECT count(*) FROM collection.case_event e WHERE e.list_id = l.list_id AND e.kind = 'ACCEPTED') "
            "AS accepted FROM collection.settlement_list l JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id",
            [r["fixmedins_code"] for r in requests], [r["input"]["setlinfo"]["setl_id"] for r in requests])
    finally:
        await conn.close()
    status = {(r["fixmedins_code"], r["setl_id"]): r["status"] for r in rows}
    truth = [orjson.loads(line) for line in gzip.decompress((tmp_path / "truth.jsonl.gz").read_bytes()).splitlines()]
    clean = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"])
             for r, t in zip(requests, truth, strict=True) if not t["faults"]}
    assert clean <= status.keys()  # every clean list stored (once: the key is unique)
    assert all(status[s] == "ACTIVE" for s in clean - reversed_ids), {s: status[s] for s in clean if
                                                                       status[s] != "ACTIVE"}
    assert all(status[s] in ("ACTIVE", "REJECTED") for s in status.keys() - reversed_ids)
    assert all(r["accepted"] <= 1 for r in rows)  # grouped into the feed once
    code, out = await medpay("collection", "pending")
    assert code == 0 and "lists waiting for their settlement record: 0" in out, out


def synthetic_month(tmp_path: Path, seed: int, cases: int) -> tuple[Path, Path, list[dict[str, Any]],
                                                                     list[dict[str, Any]], list[dict[str, Any]]]:
    """A synthetic month as the two systems send it: HIS-form lists and the core system's records (plain
    JSON lines), with the truth."""
    from services.synth.generator import Generator
    from services.synth.params import SynthParams
    from services.synth.sources import Output, load_reference
    from services.synth.writer import write_run

    from ..support import reference_dir

    params = SynthParams(cases=cases, months=1, hospitals=5, seed=seed, scheme=scheme_id())
    ref, _ = load_reference(params, reference_dir())
    with Output(tmp_path, gzip_output=False) as out:
        write_run(Generator(params, ref), out)
    lists_file, records_file = tmp_path / "settlement_lists.jsonl", tmp_path / "settlement_records.jsonl"
    read = lambda p: [orjson.loads(line) for line in p.read_bytes().splitlines()]  # noqa: E731
    return lists_file, records_file, read(lists_file), read(records_file), read(tmp_path / "truth.jsonl")


@pytest.mark.parametrize("records_first", [True, False], ids=["records-first", "lists-first"])
async def test_import_commands_killed_midway_resume_and_store_everything_exactly_once(
        runtime: Runtime, database_url: str, coding_server: Any, grouping_server: Any, *, collection_app: App,
        tmp_path: Path, records_first: bool) -> None:
    """`medpay collection import-records` and `medpay collection import` each SIGKILLed in the middle of their
    files, in both orders; then `import LISTS --records RECORDS` finishes both (each resumed at its checkpoint
    once the killed process's lease ran out): every list stored once, joined with its record and grouped into
    the feed exactly once; each run SUCCEEDED on its second attempt and visible as an operation."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import grpc
    from google.longrunning import operations_pb2, operations_pb2_grpc

    from services.collection.service_layer.import_jobs import file_digest

    from ..support import ROOT

    lists_file, records_file, requests, records, truth = synthetic_month(tmp_path, 190 + records_first, 800)
    env = {**os.environ, "MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir),
           "MEDPAY_CODING_ADDRESS": f"127.0.0.1:{coding_server.port}",
           "MEDPAY_GROUPING_ADDRESS": f"127.0.0.1:{grouping_server.port}", "MEDPAY_LOG_LEVEL": "ERROR"}
    conn = await asyncpg.connect(database_url)

    async def kill_midway(kind: str, path: Path, *args: str) -> int:
        """Run the command; SIGKILL it once its run has committed a few chunks; the line it had reached. The
        list import prepares chunks in a worker process too in one of the orders: killed, its worker ends."""
        workers = ("--workers", "1") if records_first and args == ("import",) else ()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "collection", *args, str(path), "--chunk", "40", *workers, cwd=ROOT,
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        digest, deadline = file_digest(path), time.monotonic() + 240
        children: set[int] = set()
        try:
            while time.monotonic() < deadline:
                done = await conn.fetchval("SELECT progress_done FROM collection.run WHERE kind = $1 AND "
                                           "run_key = $2 AND state = 'RUNNING'", kind, digest)
                children |= children_of(proc.pid)
                if done is not None and done >= 120:
                    proc.send_signal(signal.SIGKILL)
                    break
                assert proc.returncode is None, "the import ended before it could be killed"
                await asyncio.sleep(0.01)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        if workers:
            assert children, "the import started no worker process"
            for _ in range(100):  # a worker notices within half a second that its parent is gone
                if not alive(children):
                    break
                await asyncio.sleep(0.1)
            assert not alive(children), "a worker outlived its import"
        return int(await conn.fetchval("SELECT progress_done FROM collection.run WHERE kind = $1 AND run_key = $2",
                                       kind, digest))

    try:
        steps = [("collection.import-records", records_file, "import-records"),
                 ("collection.import-lists", lists_file, "import")]
        reached = [await kill_midway(*step) for step in (steps if records_first else steps[::-1])]
        lines = {"collection.import-records": len(records), "collection.import-lists": len(requests)}
        assert all(0 < n < lines[kind] for n, (kind, _, _) in zip(reached, steps if records_first else steps[::-1],
                                                                  strict=True))
        finished = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "services.cli", "collection", "import", str(lists_file), "--records",
            str(records_file), "--chunk", "40"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert finished.returncode == 0 and "resumed at line" in finished.stderr, finished.stderr
        runs = await conn.fetch("SELECT kind, state, attempts, progress_done, id FROM collection.run "
                                "WHERE run_key = ANY($1::text[])", [file_digest(lists_file), file_digest(records_file)])
        assert {(r["kind"], r["state"], r["attempts"], r["progress_done"]) for r in runs} == {
            (kind, "SUCCEEDED", 2, lines[kind]) for kind in lines}
        for _ in range(120):  # whatever the kills left to join, the last command joined; the sweep too
            if await conn.fetchval("SELECT count(*) FROM collection.join_task") == 0:
                break
            await asyncio.sleep(0.5)
        stored = await conn.fetch(
            "SELECT l.fixmedins_code, l.setl_id, l.status, "
            "(SELECT count(*) FROM collection.list_revision r WHERE r.list_id = l.list_id) AS revisions, "
            "(SELECT count(*) FROM collection.case_event e WHERE e.list_id = l.list_id AND e.kind = 'ACCEPTED') "
            "AS accepted FROM collection.settlement_list l JOIN unnest($1::text[], $2::text[]) AS u(code, setl_id) "
            "ON l.fixmedins_code = u.code AND l.setl_id = u.setl_id",
            [r["fixmedins_code"] for r in requests], [r["input"]["setlinfo"]["setl_id"] for r in requests])
        stays = {(r["fixmedins_code"], r["setlinfo"]["setl_id"]) for r in records}
        kept = await conn.fetchval(
            "SELECT count(*) FROM collection.settlement_record r JOIN unnest($1::text[], $2::text[]) AS "
            "u(code, setl_id) ON r.fixmedins_code = u.code AND r.setl_id = u.setl_id",
            [c for c, _ in stays], [s for _, s in stays])
    finally:
        await conn.close()
    assert kept == len(stays)  # every stay's record, once
    status = {(r["fixmedins_code"], r["setl_id"]): r["status"] for r in stored}
    reversed_ids = {(r["fixmedins_code"], r["setlinfo"]["setl_id"]) for r in records if r["infno"] == "2305"}
    clean = {(r["fixmedins_code"], r["input"]["setlinfo"]["setl_id"])
             for r, t in zip(requests, truth, strict=True) if not t["faults"]}
    assert clean <= status.keys() and all(r["revisions"] == 1 for r in stored)  # stored once, no second revision
    assert all(status[s] == "ACTIVE" for s in clean - reversed_ids)
    assert all(r["accepted"] == 1 for r in stored if r["status"] == "ACTIVE")
    assert all(r["accepted"] <= 1 for r in stored)  # grouped into the feed once
    running, _, _ = collection_app
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        operations = operations_pb2_grpc.OperationsStub(channel)
        for run in runs:
            operation = await operations.GetOperation(
                operations_pb2.GetOperationRequest(name=f"operations/{run['id']}"))
            assert operation.done and operation.HasField("response")


_STORED_AS = """
SELECT jsonb_build_object(
  'list', (SELECT to_jsonb(x) FROM (SELECT status, current_revision, psn_no, region, period
                                    FROM collection.settlement_list WHERE list_id = $1) x),
  'revisions', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.revision) FROM (
      SELECT revision, region, body, ruleset, total_fen, fund_fen, los_days, sex, age_years, discharge_date,
             discharge_type, principal_dx, record_revision FROM collection.list_revision WHERE list_id = $1) x),
  'groups', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.revision, x.scheme_id) FROM (
      SELECT revision, scheme_id, region, scheme_version, drg, adrg, mdc, status, kind
      FROM collection.group_result WHERE list_id = $1) x),
  'findings', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.revision, x.code, x.field) FROM (
      SELECT revision, region, code, severity, field, message_zh, message_en
      FROM collection.list_finding WHERE list_id = $1) x),
  'history', (SELECT jsonb_agg(to_jsonb(x) ORDER BY x.change_id) FROM (
      SELECT change_id, revision, region, status, reason FROM collection.status_history WHERE list_id = $1) x),
  'events', (SELECT jsonb_agg(to_jsonb(x) - 'event_id' - 'event_time' - 'sequence' - 'list_id' - 'setl_list_id'
                              ORDER BY x.event_id) FROM collection.case_event x WHERE list_id = $1))::text"""


async def stored_as(conn: asyncpg.Connection, request: dict[str, Any], tag: str) -> tuple[str, list[Any]]:
    """Everything stored of the request's list, its stay's tag and the storing path's words taken out (ids and
    times aside), and the stored responses of its msgids (the request's but the last three digits)."""
    s = request["input"]["setlinfo"]
    list_id, setl_list_id = await conn.fetchrow(
        "SELECT list_id, setl_list_id FROM collection.settlement_list WHERE fixmedins_code = $1 AND setl_id = $2",
        request["fixmedins_code"], s["setl_id"])
    text = await conn.fetchval(_STORED_AS, list_id)
    responses = [orjson.loads(r) for r in await conn.fetchval(
        "SELECT array_agg(response::text ORDER BY response->'output'->>'revision') FROM collection.idempotency "
        "WHERE key LIKE $1", f"msgid:{request['fixmedins_code']}:{request['msgid'][:-3]}%")]
    for r in responses:
        assert r["output"].pop("setl_list_id") == setl_list_id
    stored = orjson.loads(text)
    for i, change in enumerate(stored["history"]):
        change["change_id"] = i
    return orjson.dumps(stored).decode().replace(tag, "").replace('"import', '"upload'), [r["output"]
                                                                                         for r in responses]


async def test_an_imported_list_is_stored_as_the_door_stores_it(collection_app: App, database_url: str,
                                                                  tmp_path: Path) -> None:
    """The import COPYs what the door's one statement writes: the list, its revisions, group, findings,
    history, feed events and responses agree column by column, for a new list and for a second revision
    (at the door one after the other, in the file a later wave of the same chunk)."""
    _, base, app = collection_app
    clean = [r for r, t in fresh(seed=66, cases=60) if not t["faults"]][:5]  # a seed no other test posts

    def tagged(tag: str, serial: int) -> list[dict[str, Any]]:
        out = own_ids([orjson.loads(orjson.dumps(r)) for r in clean], tag)
        for r in out:
            r["msgid"] = f"{r['msgid'][:-4]}{serial}"
        return out

    imported, uploaded = tagged("IMP", 7001), tagged("UPL", 8001)
    revised = {**imported[0], "msgid": imported[0]["msgid"][:-4] + "7002"}
    await BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply).run(
        write(tmp_path / "lists.jsonl", [(r, {}) for r in [*imported, revised]]))
    assert all(r["infcode"] == 0 for r in await post_all(base, uploaded))
    second = await post_all(base, [{**uploaded[0], "msgid": uploaded[0]["msgid"][:-4] + "8002"}])
    assert second[0]["infcode"] == 0 and second[0]["output"]["revision"] == 2
    conn = await asyncpg.connect(database_url)
    try:
        for a, b in zip(imported, uploaded, strict=True):
            assert await stored_as(conn, a, "IMP") == await stored_as(conn, b, "UPL")
        first, _ = await stored_as(conn, imported[0], "IMP")
        assert [e["kind"] for e in orjson.loads(first)["events"]] == ["ACCEPTED", "REVISED"]
        assert "revision 2" in first
    finally:
        await conn.close()


async def test_a_key_the_door_takes_while_a_chunk_is_written_is_skipped_when_it_is_written_again(
        collection_app: App, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are written once, complete, after the lists: a key taken at the door between the chunk's look at
    its keys and their COPY loses the chunk's transaction, and the chunk written again skips it."""
    _, base, app = collection_app
    clean = own_ids([r for r, t in fresh(seed=62, cases=40) if not t["faults"]][:6], "RACE")
    at_door = (await post_all(base, [clean[2]]))[0]
    assert at_door["infcode"] == 0
    writes: list[int] = []
    free = staging._TAKEN

    async def racing(session: Any, rows: Any, waves: int) -> Any:
        writes.append(len(rows))
        # The first write sees every key free, as if the door's upload had come in just after it looked.
        staging._TAKEN = ("SELECT key FROM unnest(CAST(:keys AS text[])) AS k(key) WHERE false" if len(writes) == 1
                          else free)
        return await staging.write_staged(session, rows, waves)

    monkeypatch.setattr(bulk_import, "write_staged", racing)
    try:
        report = await BulkImport(app.new_uow, app.checker, app.joiner, app.imports, app.interface.reply).run(
            write(tmp_path / "race.jsonl", [(r, {}) for r in clean]))
    finally:
        staging._TAKEN = free
    assert writes == [6, 6] and (report.accepted, report.skipped) == (5, 1)
    assert await count_lists(database_url, clean) == (6, 6)  # the door's list was not stored a second time
    assert (await post_all(base, [clean[2]]))[0] == at_door  # and its key still answers the door's response
