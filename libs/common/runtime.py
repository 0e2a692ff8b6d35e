"""Process-wide wiring shared by every entrypoint: settings, logging, database URL, reference directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .logs import configure_logging
from .reference import resolve_reference_dir

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Runtime:
    """Read once at bootstrap; entrypoints pass it (or the pieces they need) down."""

    settings: Settings = field(default_factory=Settings)
    reference_override: Path | None = None

    def __post_init__(self) -> None:
        configure_logging(self.settings.log_level, self.settings.log_format)

    @cached_property
    def database_url(self) -> str:
        # The database modules (SQLAlchemy, OpenTelemetry: a second of start-up) load only for commands that use
        # the database: file-only commands such as `medpay evaluation indicators` start without them.
        from .db.engine import database_url

        return database_url(self.settings)

    @cached_property
    def reference_dir(self) -> Path:
        return resolve_reference_dir(self.reference_override or self.settings.reference_dir)

    def engine(self, pool_size: int = 10) -> AsyncEngine:
        from .db.engine import create_engine

        return create_engine(self.settings, url=self.database_url, pool_size=pool_size)
