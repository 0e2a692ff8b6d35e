"""FORMAT.md's ``params.json`` in, the four outputs out (the case files are read by :mod:`.case_files`).

The writer renders every output into a temporary directory beside OUTDIR and moves the files in only when all
are written, so a failed run leaves OUTDIR as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from ..domain.errors import InputError
from ..domain.policy import Policy, policy_from_json


def read_policy(path: Path, label: str | None = None) -> Policy:
    """``params.json``; JSON numbers are read as decimals from their text (``2.5`` is exactly 2.5)."""
    name = label or str(path)
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as bad:
        raise InputError(name, 1, "", f"not UTF-8 ({bad.reason})") from None
    except json.JSONDecodeError as bad:
        raise InputError(name, bad.lineno, "", f"not JSON: {bad.msg} (column {bad.colno})") from None
    return policy_from_json(raw)


def write_outputs(out_dir: Path, files: dict[str, Iterator[bytes]]) -> None:
    """Write every file, then move them into ``out_dir`` together (created if missing)."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, chunks in files.items():
            with (staging / name).open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
        if not out_dir.exists():
            os.replace(staging, out_dir)
            return
        for name in files:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
