"""A bulk import's worker processes: forked where the importing process can still fork (one thread, no event loop:
the command line starts them before it connects), spawned elsewhere; either way they prepare chunks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.collection.service_layer.preparers import WORKER_NICENESS, can_fork

from ..support import ROOT

IMPORTER = "services.collection.service_layer.bulk_import"
SCRIPT = f"""
import json, os, sys, threading
from libs.common.config import Settings
from {IMPORTER} import start_workers
from tests.integration import chunk_probe
if sys.argv[1] == "with-a-thread":  # as gRPC's threads, or an exporter's
    threading.Thread(target=threading.Event().wait, daemon=True).start()
with start_workers(1, Settings(database_url="postgresql://nobody@127.0.0.1:1/x")) as workers:
    assert workers.pool is not None
    has, parent = workers.pool.submit(chunk_probe.loaded, "{IMPORTER}").result(timeout=60)
    niceness = workers.pool.submit(chunk_probe.niceness).result(timeout=60)
    print(json.dumps([workers.forked, has, parent == os.getpid(), niceness - os.nice(0)]))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="forking is judged from /proc (Linux)")
@pytest.mark.parametrize(("situation", "forked"), [("alone", True), ("with-a-thread", False)])
def test_workers_are_forked_only_from_a_process_of_one_thread(situation: str, forked: bool) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, situation], check=False, cwd=ROOT,
                          capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MEDPAY_LOG_LEVEL": "ERROR"})
    assert done.returncode == 0, done.stderr
    was_forked, has_importer, ours, lower = json.loads(done.stdout.splitlines()[-1])
    assert (was_forked, ours) == (forked, True)
    assert lower == min(WORKER_NICENESS, 19 - os.nice(0)), "a worker yields to the writes: a lower priority"
    # A forked worker has the importer's modules already; a spawned one imports only what it is given.
    assert has_importer is forked


def test_no_fork_from_within_an_event_loop() -> None:
    async def inside() -> bool:
        return can_fork()

    assert asyncio.run(inside()) is False


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="forking is judged from /proc (Linux)")
def test_a_file_of_a_few_megabytes_gets_workers_only_where_they_can_be_forked(tmp_path: Path) -> None:
    """A forked worker starts in milliseconds and pays for itself within a few hundred lists (one per core: this
    process mostly writes); a spawned one costs a second, worth it only for a large file."""
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"{}\n" * (1 << 20))  # 3 MiB
    script = """
import sys, threading
from pathlib import Path
from services.collection.service_layer.preparers import default_workers
if sys.argv[2] == "with-a-thread":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
print(default_workers(Path(sys.argv[1])))
"""
    answers = [subprocess.run([sys.executable, "-c", script, str(small), situation], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=True).stdout.split()[-1]
               for situation in ("alone", "with-a-thread")]
    assert [int(a) for a in answers] == [max(1, min(4, os.cpu_count() or 1)), 0]
