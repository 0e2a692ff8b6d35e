"""Coding benchmarks: full import of the code tables, and ValidateCodes throughput through one server.

    .venv/bin/python -m benchmarks.coding [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from medpay.coding.v1 import coding_service_pb2 as pb
from medpay.coding.v1 import coding_service_pb2_grpc as pb_grpc

from libs.common.config import Settings
from libs.common.db.migrate import upgrade_all
from libs.common.grpc.client import open_channel
from libs.common.runtime import Runtime
from services.coding.adapters.sources import SOURCES, read_dataset
from services.coding.bootstrap import build_app
from services.coding.service_layer.importing import import_codes

from .support import reference_dir, report, scratch_database, service_process


async def _import(url: str) -> tuple[float, float, int]:
    app = build_app(Runtime(Settings(database_url=url, reference_dir=reference_dir(), log_level="WARNING")))
    try:
        started = time.perf_counter()
        outcomes = await import_codes(app.new_uow, reference_dir())
        first = time.perf_counter() - started
        started = time.perf_counter()
        await import_codes(app.new_uow, reference_dir())
        second = time.perf_counter() - started
    finally:
        await app.close()
    return first, second, sum(o.code_count for o in outcomes)


def sample_codes(n: int) -> list[pb.CodeReference]:
    """A realistic mix: mostly ICD codes (valid), some unknown and some malformed."""
    rng = random.Random(7)
    dx = [r.code for r in read_dataset(SOURCES[0], reference_dir()).rows]
    px = [r.code for r in read_dataset(SOURCES[1], reference_dir()).rows]
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.6:
            out.append(pb.CodeReference(code_system="icd10-chs", code=rng.choice(dx)))
        elif roll < 0.9:
            out.append(pb.CodeReference(code_system="icd9cm3-chs", code=rng.choice(px)))
        elif roll < 0.95:
            out.append(pb.CodeReference(code=rng.choice(["Q99.999", "H33070300089", "M03900"])))
        else:
            out.append(pb.CodeReference(code_system="icd10-chs", code="X1"))
    return out


async def _validate(address: str, seconds: float, batch: int, concurrency: int) -> tuple[int, float]:
    codes = sample_codes(batch)
    request = pb.ValidateCodesRequest(codes=codes)
    done = 0
    async with open_channel(address) as channel:
        stub = pb_grpc.CodingServiceStub(channel)
        await stub.ValidateCodes(request)  # warm up
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                reply = await stub.ValidateCodes(request)
                assert len(reply.results) == batch
                done += batch

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with scratch_database() as url:
        upgrade_all(url)
        first, second, codes = asyncio.run(_import(url))
        report("import of the code tables (COPY, one transaction per version)", [
            ("codes", f"{codes:,}"), ("first import", f"{first:.2f} s ({codes / first:,.0f} codes/s)"),
            ("second import (no change)", f"{second:.2f} s")])
        with service_process("coding", {"MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(reference_dir())}) \
                as address:
            done, elapsed = asyncio.run(_validate(address, args.seconds, args.batch, args.concurrency))
        report(f"ValidateCodes through one server process (batches of {args.batch}, {args.concurrency} in flight)", [
            ("codes validated", f"{done:,} in {elapsed:.1f} s"), ("throughput", f"{done / elapsed:,.0f} codes/s")])


if __name__ == "__main__":
    main()
