"""Grouping benchmarks over the CHS-DRG 1.1 conformance cases.

    .venv/bin/python -m benchmarks.grouping [--seconds 8]

Reports: the engine in-process on one core; GroupCases batches through one server process; StreamGroupCases;
and p50/p99 latency of GroupCase at a steady 200 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

from medpay.grouping.v1 import grouping_service_pb2 as pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

from libs.common.db.migrate import upgrade_all
from libs.common.grpc.client import open_channel
from services.grouping.adapters.case_json import case_from_json
from services.grouping.adapters.scheme_files import load_scheme
from services.grouping.api.mapping import case_to_proto
from services.grouping.domain.case import Case
from services.grouping.domain.engine import group_case

from .support import reference_dir, report, scratch_database, service_process

SCHEME = "chs-drg-1.1"


def load_cases() -> list[Case]:
    path = reference_dir() / "conformance" / SCHEME / "cases.jsonl"
    return [case_from_json(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def in_process(cases: list[Case], seconds: float) -> float:
    scheme = load_scheme(reference_dir(), SCHEME)
    for case in cases:  # warm up
        group_case(scheme, case)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for case in cases:
            group_case(scheme, case)
        done += len(cases)
    return done / (time.perf_counter() - started)


async def batches(address: str, cases: list[Case], seconds: float, batch: int, in_flight: int) -> float:
    messages = [case_to_proto(c, str(i)) for i, c in enumerate(cases)]
    requests = [pb.GroupCasesRequest(scheme=f"schemes/{SCHEME}", cases=messages[i:i + batch])
                for i in range(0, len(messages), batch)]
    done = 0
    async with open_channel(address) as channel:
        stub = pb_grpc.GroupingServiceStub(channel)
        await stub.GroupCases(requests[0])
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(offset: int) -> None:
            nonlocal done
            i = offset
            while time.perf_counter() < deadline:
                reply = await stub.GroupCases(requests[i % len(requests)])
                done += len(reply.results)
                i += 1

        await asyncio.gather(*(worker(k) for k in range(in_flight)))
        return done / (time.perf_counter() - started)


async def stream(address: str, cases: list[Case], seconds: float, batch: int) -> float:
    messages = [case_to_proto(c, str(i)) for i, c in enumerate(cases)]
    chunks = [pb.StreamGroupCasesRequest(scheme=f"schemes/{SCHEME}", cases=messages[i:i + batch])
              for i in range(0, len(messages), batch)]
    done = 0
    started = time.perf_counter()

    async def requests() -> AsyncIterator[pb.StreamGroupCasesRequest]:
        i = 0
        while time.perf_counter() - started < seconds:
            yield chunks[i % len(chunks)]
            i += 1

    async with open_channel(address) as channel:
        async for reply in pb_grpc.GroupingServiceStub(channel).StreamGroupCases(requests()):
            done += len(reply.results)
    return done / (time.perf_counter() - started)


async def steady_latency(address: str, cases: list[Case], seconds: float, rate: float) -> tuple[float, float, int]:
    messages = [case_to_proto(c, str(i)) for i, c in enumerate(cases)]
    latencies: list[float] = []
    async with open_channel(address) as channel:
        stub = pb_grpc.GroupingServiceStub(channel)
        await stub.GroupCase(pb.GroupCaseRequest(scheme=f"schemes/{SCHEME}", case=messages[0]))

        async def one(i: int) -> None:
            t = time.perf_counter()
            await stub.GroupCase(pb.GroupCaseRequest(scheme=f"schemes/{SCHEME}", case=messages[i % len(messages)]))
            latencies.append(time.perf_counter() - t)

        tasks = []
        started = time.perf_counter()
        total = int(seconds * rate)
        for i in range(total):  # open-loop: requests leave on schedule whatever the replies do
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000, len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    cases = load_cases()
    engine = in_process(cases, args.seconds)
    with scratch_database() as url:  # the service keeps its DIP catalogues there
        upgrade_all(url)
        with service_process("grouping", {"MEDPAY_REFERENCE_DIR": str(reference_dir()), "MEDPAY_DATABASE_URL": url,
                                          "MEDPAY_GROUPING_SCHEMES": SCHEME}) as address:
            batch_rate = asyncio.run(batches(address, cases, args.seconds, 1000, 2))
            stream_rate = asyncio.run(stream(address, cases, args.seconds, 1000))
            p50, p99, n = asyncio.run(steady_latency(address, cases, args.seconds, 200))
    report(f"grouping, {SCHEME}, {len(cases):,} conformance cases", [
        ("engine in-process, one core", f"{engine:,.0f} cases/s"),
        ("GroupCases, batches of 1,000, one server process", f"{batch_rate:,.0f} cases/s"),
        ("StreamGroupCases, messages of 1,000", f"{stream_rate:,.0f} cases/s"),
        (f"GroupCase at 200 req/s ({n:,} calls)", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"),
    ])


if __name__ == "__main__":
    main()
