"""Import the code tables: one transaction per version, idempotent, bulk-loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..adapters.sources import SOURCES, SourceMissing, read_dataset
from .unit_of_work import CodingUnitOfWork


@dataclass(frozen=True)
class ImportOutcome:
    system_id: str
    version: str
    outcome: str  # created / updated / unchanged / skipped
    code_count: int
    detail: str = ""


class ImportProgress:
    """Callbacks a CLI hooks a progress bar to; the default does nothing."""

    def begin(self, system_id: str, total: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def end(self, outcome: ImportOutcome) -> None: ...


async def import_codes(new_uow: Callable[[], CodingUnitOfWork], reference_dir: Path,
                       progress: ImportProgress | None = None) -> list[ImportOutcome]:
    progress = progress or ImportProgress()
    outcomes = []
    for source in SOURCES:
        try:
            dataset = read_dataset(source, reference_dir)
        except SourceMissing as missing:
            outcome = ImportOutcome(source.system_id, source.version, "skipped", 0, str(missing))
        else:
            progress.begin(source.system_id, len(dataset.rows))
            async with new_uow() as uow:
                await uow.codes.ensure_systems()
                result = await uow.codes.load_dataset(dataset, progress.advance)
                await uow.commit()
            outcome = ImportOutcome(source.system_id, source.version, result, len(dataset.rows))
        progress.end(outcome)
        outcomes.append(outcome)
    return outcomes
