"""Run in a bulk import's worker process by tests/integration/test_chunk_workers.py: what the worker has."""

from __future__ import annotations

import os
import sys


def loaded(module: str) -> tuple[bool, int]:
    """Whether the worker has ``module`` already (a forked worker has its parent's), and its parent's pid."""
    return module in sys.modules, os.getppid()


def niceness() -> int:
    """The worker's scheduling niceness."""
    return os.nice(0)
