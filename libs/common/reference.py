"""Where reference material (code tables, grouping packs) is read from.

Order: the ``MEDPAY_REFERENCE_DIR`` setting; ``../shared`` beside the working directory or beside the
source checkout; else the small sample bundled with medpay (written by us, enough for the demo and tests).
"""

from __future__ import annotations

from pathlib import Path

BUNDLED_SAMPLE = Path(__file__).resolve().parent.parent / "reference_sample"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ReferenceDirError(FileNotFoundError):
    """The configured reference directory does not exist or is not usable."""


def resolve_reference_dir(configured: Path | None) -> Path:
    if configured is not None:
        path = configured.expanduser()
        if not path.is_dir():
            raise ReferenceDirError(
                f"reference directory {path} does not exist (MEDPAY_REFERENCE_DIR or --reference-dir); "
                f"point it at the shared reference material, or unset it to use the bundled sample")
        return path.resolve()
    for candidate in (Path.cwd().parent / "shared", _PROJECT_ROOT.parent / "shared"):
        if (candidate / "codes").is_dir():
            return candidate.resolve()
    return BUNDLED_SAMPLE
