"""Build a ``SchemeRegistry`` from the reference directory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from ..service_layer.dip_catalogues import DipCatalogues
from ..service_layer.registry import SchemeRegistry
from ..service_layer.unit_of_work import GroupingUnitOfWork
from .dip_files import load_procedure_classes, load_reference_catalogues, surgery_list_path
from .scheme_files import available_schemes, load_code_tables, load_scheme

log = logging.getLogger(__name__)


def load_registry(reference_dir: Path, scheme_ids: Sequence[str] = (),
                  new_uow: Callable[[], GroupingUnitOfWork] | None = None) -> SchemeRegistry:
    """Load the named CHS-DRG schemes (all packs found when none are named), when present the code tables, and
    the DIP catalogues: the reference directory's now, the stored ones (with ``new_uow``) on ``dip.refresh()``."""
    wanted = list(scheme_ids) or available_schemes(reference_dir)
    schemes = {sid: load_scheme(reference_dir, sid) for sid in wanted}
    try:
        codes = load_code_tables(reference_dir)
    except FileNotFoundError as missing:
        log.warning("input checks unavailable: %s", missing)
        codes = None
    return SchemeRegistry(schemes, codes, load_dip(reference_dir, new_uow))


def load_dip(reference_dir: Path, new_uow: Callable[[], GroupingUnitOfWork] | None = None) -> DipCatalogues | None:
    try:
        classes = load_procedure_classes(surgery_list_path(reference_dir))
    except FileNotFoundError as missing:
        log.warning("DIP unavailable: %s", missing)
        return None
    return DipCatalogues(classes, load_reference_catalogues(reference_dir, classes), new_uow)
