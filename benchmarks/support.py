"""Helpers for the benchmarks: a scratch database, service processes, timing."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.cli.processes import free_address, service_process

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["free_address", "reference_dir", "report", "scratch_database", "service_process"]


def reference_dir() -> Path:
    configured = os.environ.get("MEDPAY_REFERENCE_DIR")
    if configured:
        return Path(configured)
    shared = ROOT.parent / "shared"
    if (shared / "codes").is_dir():
        return shared
    sys.exit("benchmarks need the full reference material: set MEDPAY_REFERENCE_DIR or put ../shared beside")


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh database: on MEDPAY_DATABASE_URL's server when set, else on an embedded server."""
    from libs.common.db.embedded import embedded_url
    from tests.support import create_database, drop_database

    with tempfile.TemporaryDirectory() as tmp:
        admin = os.environ.get("MEDPAY_DATABASE_URL") or embedded_url(Path(tmp))
        url, name = asyncio.run(create_database(admin))
        try:
            yield url
        finally:
            asyncio.run(drop_database(admin, name))


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
