"""Async SQLAlchemy engines on asyncpg, from the settings (or the embedded server)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ..config import Settings
from ..telemetry import instrument_engine
from .embedded import embedded_url


def database_url(settings: Settings) -> str:
    """The plain postgresql:// URL to use: the configured one, else the embedded server's."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return embedded_url(settings.data_dir)


def asyncpg_url(url: str) -> str:
    """``postgresql://...`` as SQLAlchemy's asyncpg dialect wants it."""
    scheme = urlsplit(url).scheme
    if scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"database URL must be postgresql://..., got scheme {scheme!r}")
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


def create_engine(settings: Settings, *, url: str | None = None, pool_size: int = 10) -> AsyncEngine:
    """A pooled engine. No pre-ping (it costs a round trip per transaction); connections are recycled after
    30 minutes instead, and a dead one fails its transaction, which the callers' retries or clients handle.
    Errors never quote their statement's parameters (``hide_parameters``): they carry names and insurance
    numbers, and errors get logged."""
    engine = create_async_engine(asyncpg_url(url or database_url(settings)), pool_size=pool_size,
                                 max_overflow=max(2, pool_size // 4), pool_recycle=1800, hide_parameters=True)
    instrument_engine(settings, engine.sync_engine)
    return engine


def session_factory(engine: AsyncEngine, *, autocommit: bool = False) -> async_sessionmaker:  # type: ignore[type-arg]
    """Sessions on ``engine``. With ``autocommit`` every statement commits by itself (no BEGIN/COMMIT round
    trips): only for units of work that write with a single statement, which is then atomic on its own."""
    if autocommit:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, expire_on_commit=False)
