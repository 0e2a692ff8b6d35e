"""Weight table versions: computed from the case feed's history by a run of their own, or imported (pure
values; the computation itself is :func:`.weights.compute_weights`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .weights import WeightTable


class TableSource(StrEnum):
    COMPUTED = "computed"
    IMPORTED = "imported"


@dataclass(frozen=True)
class WeightTableVersion:
    region: str
    year: int
    version: int
    source: TableSource
    run_id: str
    policy: str
    input_digest: str
    feed_sequence: int
    base_cases: int
    table: WeightTable
    created_at: datetime | None = None

    @property
    def table_id(self) -> str:
        return weight_table_id(self.year, self.version)

    @property
    def name(self) -> str:
        return f"regions/{self.region}/weightTables/{self.table_id}"


def weight_table_id(year: int, version: int) -> str:
    return f"{year}-w{version}"
