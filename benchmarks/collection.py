"""Collection benchmarks: HTTP upload with QC and grouping (one server process), gRPC batch upload, bulk import.

    .venv/bin/python -m benchmarks.collection [--lists 5000] [--import-lists 20000] [--import-only] [--workers N]

The bulk import is measured against its floor in the same run: a plain COPY of the same file's lines into a
JSONB table (before and after the import, averaged), and the ratio printed. With the server on this machine the
CPU seconds are printed too (the COPY's backend; the import's process and the database's backends), which
compare runs at different loads where wall times on two shared cores do not.

The HTTP client is a minimal keep-alive HTTP/1.1 client on asyncio streams, so the measurement is the
server's, not the client library's (all processes share the machine's two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from libs.common.config import Settings
from libs.common.db.migrate import upgrade_all
from libs.common.grpc.client import open_channel
from libs.common.runtime import Runtime
from services.coding.bootstrap import build_app as build_coding
from services.coding.service_layer.importing import import_codes
from services.synth.generator import Generator
from services.synth.params import SynthParams
from services.synth.sources import load_reference

from .support import free_address, reference_dir, report, scratch_database, service_process


def month(seed: int, cases: int) -> list[dict[str, Any]]:
    params = SynthParams(cases=cases, months=1, hospitals=10, seed=seed, rich_lists=True)
    ref, _ = load_reference(params, reference_dir())
    return [r for r, _ in Generator(params, ref).lists()]


async def post_http(address: str, path: str, requests: list[dict[str, Any]], connections: int) -> tuple[float, int]:
    host, port = address.rsplit(":", 1)
    bodies = [orjson.dumps(r) for r in requests]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        reader, writer = await asyncio.open_connection(host, int(port))
        while not queue.empty():
            body = queue.get_nowait()
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            headers = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in headers.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            reply = orjson.loads(await reader.readexactly(length))
            accepted += reply["infcode"] == 0
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, accepted


async def grpc_batch(address: str, requests: list[dict[str, Any]], batch: int) -> tuple[float, int]:
    accepted = 0
    async with open_channel(address) as channel:
        stub = pb_grpc.CollectionServiceStub(channel)
        started = time.perf_counter()
        for start in range(0, len(requests), batch):
            async def stream(chunk: list[dict[str, Any]]) -> AsyncIterator[pb.BatchUploadSettlementListsRequest]:
                for r in chunk:
                    yield pb.BatchUploadSettlementListsRequest(upload=pb.SettlementListUpload(
                        fixmedins_code=r["fixmedins_code"], fixmedins_name=r["fixmedins_name"],
                        input_json=orjson.dumps(r["input"])))

            reply = await stub.BatchUploadSettlementLists(stream(requests[start:start + batch]), timeout=600)
            accepted += reply.accepted_count
        return time.perf_counter() - started, accepted


def write_month(path: Path, lists: int) -> int:
    """The synthetic month (rich lists) as an import file; its size in bytes."""
    with path.open("wb") as f:
        for r in month(seed=99, cases=lists):
            f.write(orjson.dumps(r) + b"\n")
    return path.stat().st_size


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process of this machine has used, None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_cpu(url: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends serving the benchmark's database (the import's
    connections and the services'), when the server runs on this machine; None else. Load-independent, unlike
    wall time on two cores shared with other work."""
    conn = await asyncpg.connect(url)
    try:
        pids = [r["pid"] for r in await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    finally:
        await conn.close()
    used = [process_cpu(pid) for pid in pids]
    return None if not used or None in used else sum(u for u in used if u is not None)


async def plain_copy(url: str, path: Path) -> tuple[float, float | None]:
    """The floor: COPY of the same raw lines into a JSONB table (each line one value): seconds, and the
    server's CPU seconds for it (None when the server is not on this machine)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_raw; CREATE TABLE bench_raw (doc jsonb)")
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        cpu = process_cpu(backend)
        started = time.perf_counter()
        await conn.copy_to_table("bench_raw", source=path, format="csv", delimiter="\x02", quote="\x01")
        seconds = time.perf_counter() - started
        after = process_cpu(backend)
        await conn.execute("DROP TABLE bench_raw")
    finally:
        await conn.close()
    return seconds, after - cpu if after is not None and cpu is not None else None


@dataclass(frozen=True)
class Imported:
    seconds: float
    report: Any
    cpu: float  # this process (the import), every thread
    workers_cpu: float  # the import's worker processes (joined when it ends)
    database_cpu: float | None  # the database's backends meanwhile (None: not measurable here)


def bulk_import(url: str, env: dict[str, str], path: Path, workers: int | None) -> Imported:
    """The import as ``medpay collection import`` runs it: its workers started (forked) before anything connects,
    the clock started once the service's app is built."""
    from services.collection.bootstrap import build_app
    from services.collection.service_layer.bulk_import import BulkImport, start_workers
    from services.collection.service_layer.preparers import default_workers

    settings = Settings(database_url=url, reference_dir=reference_dir(), log_level="WARNING",
                        coding_address=env["MEDPAY_CODING_ADDRESS"], grouping_address=env["MEDPAY_GROUPING_ADDRESS"])

    async def run(started: Any) -> tuple[float, Any, float, float | None]:
        app = await build_app(Runtime(settings))
        try:
            database_before = await database_cpu(url)
            clock, cpu = time.perf_counter(), time.process_time()
            result = await BulkImport(app.new_uow, app.checker, app.joiner, app.imports,
                                      app.interface.reply, settings=settings).run(path, workers=started)
            seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
            database_after = await database_cpu(url)  # before the pool's connections close with the app
            database = (database_after - database_before
                        if database_after is not None and database_before is not None else None)
            return seconds, result, cpu, database
        finally:
            await app.close()

    children = _children_cpu()
    with start_workers(workers if workers is not None else default_workers(path), settings) as started:
        seconds, result, cpu, database = asyncio.run(run(started))
    return Imported(seconds, result, cpu, _children_cpu() - children, database)


def _children_cpu() -> float:
    """CPU seconds of this process's children that ended (the import's workers, joined as it ends)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


async def _load_codes(coding_app: Any) -> None:
    """The code tables, loaded and the engine closed in one event loop (its pooled connections belong to it)."""
    try:
        await import_codes(coding_app.new_uow, reference_dir())
    finally:
        await coding_app.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--import-lists", type=int, default=20_000)
    parser.add_argument("--import-only", action="store_true", help="only the bulk import and its COPY floor")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes preparing chunks beside the import's own, forked as the command "
                             "line forks them (default: one per core, at most 4, for a file of 1 MiB or more)")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        upgrade_all(url)
        coding_app = build_coding(Runtime(Settings(database_url=url, reference_dir=reference_dir(),
                                                   log_level="WARNING")))
        asyncio.run(_load_codes(coding_app))
        env = {"MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(reference_dir()),
               "MEDPAY_GROUPING_SCHEMES": "chs-drg-1.1"}
        with service_process("coding", env) as coding, service_process("grouping", env) as grouping:
            env |= {"MEDPAY_CODING_ADDRESS": coding, "MEDPAY_GROUPING_ADDRESS": grouping}
            if not args.import_only:
                http = free_address()
                with service_process("collection", {**env, "MEDPAY_COLLECTION_HTTP_ADDRESS": http}) as collection:
                    lists = month(seed=7, cases=args.lists)
                    http_seconds, http_ok = asyncio.run(post_http(http, "/api/v1/hsa/4101A", lists,
                                                                  args.connections))
                    batch = month(seed=8, cases=args.lists)
                    grpc_seconds, grpc_ok = asyncio.run(grpc_batch(collection, batch, 1000))
                rows += [("HTTP 4101A upload, QC + grouping, one server process",
                          f"{len(lists) / http_seconds:,.0f} lists/s ({len(lists):,} lists, {http_ok:,} accepted, "
                          f"{args.connections} connections)"),
                         ("gRPC BatchUploadSettlementLists (streams of 1,000)",
                          f"{len(batch) / grpc_seconds:,.0f} lists/s ({grpc_ok:,} accepted)")]
            path = Path(tmp) / "import.jsonl"
            size = write_month(path, args.import_lists)
            (copy_before, cpu_before) = asyncio.run(plain_copy(url, path))
            imported = bulk_import(url, env, path, args.workers)
            (copy_after, cpu_after) = asyncio.run(plain_copy(url, path))
    floor = (copy_before + copy_after) / 2
    result, import_seconds = imported.report, imported.seconds
    rows += [
        ("plain COPY of the same lines into a JSONB table",
         f"{floor:.2f} s ({args.import_lists / floor:,.0f} lines/s; {copy_before:.2f} s before the import, "
         f"{copy_after:.2f} s after; {size / 1e6:.0f} MB)"),
        ("bulk import (chunks prepared here and in workers, COPY)",
         f"{args.import_lists / import_seconds:,.0f} lists/s ({result.accepted:,} accepted, "
         f"{result.rejected:,} rejected, {import_seconds:.1f} s; "
         + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()) + ")"),
        ("import / plain COPY", f"{import_seconds / floor:.1f}x (target 3x, ambition 2x)"),
    ]
    if cpu_before is not None and cpu_after is not None and imported.database_cpu is not None:
        copy_cpu = (cpu_before + cpu_after) / 2
        rows += [("CPU seconds (load-independent): COPY's server; import's processes + servers",
                  f"COPY {copy_cpu:.2f} s; import {imported.cpu:.1f} s in its process + {imported.workers_cpu:.1f} s "
                  f"in {result.worker_chunks} chunks' workers + {imported.database_cpu:.1f} s in PostgreSQL = "
                  f"{(imported.cpu + imported.workers_cpu + imported.database_cpu) / copy_cpu:.1f}x the COPY's "
                  f"(grouping and coding servers aside)")]
    report(f"collection ({os.cpu_count()} cores shared by client, services and PostgreSQL; load "
           f"{os.getloadavg()[0]:.1f})", rows)


if __name__ == "__main__":
    main()
