"""Build a ``SchemeRegistry`` from the reference directory."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..service_layer.registry import SchemeRegistry
from .scheme_files import available_schemes, load_code_tables, load_scheme

log = logging.getLogger(__name__)


def load_registry(reference_dir: Path, scheme_ids: Sequence[str] = ()) -> SchemeRegistry:
    """Load the named schemes (all packs found when none are named) and, when present, the code tables."""
    wanted = list(scheme_ids) or available_schemes(reference_dir)
    schemes = {sid: load_scheme(reference_dir, sid) for sid in wanted}
    try:
        codes = load_code_tables(reference_dir)
    except FileNotFoundError as missing:
        log.warning("input checks unavailable: %s", missing)
        codes = None
    return SchemeRegistry(schemes, codes)
