"""Settings: read once from MEDPAY_* environment variables at bootstrap, then passed in (never global)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a medpay process can be told from outside; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="MEDPAY_", extra="ignore")

    database_url: SecretStr | None = None
    """PostgreSQL URL (postgresql://...). Unset: an embedded server is started under ``data_dir``."""
    data_dir: Path = Path(".medpay")
    """Working data of this process: the embedded database lives in ``data_dir/pgdata``."""
    reference_dir: Path | None = None
    """Reference material (codes/, grouping/). Unset: ../shared when it exists, else the bundled sample."""

    coding_address: str = "127.0.0.1:50051"
    grouping_address: str = "127.0.0.1:50052"
    collection_address: str = "127.0.0.1:50053"
    settlement_address: str = "127.0.0.1:50054"
    evaluation_address: str = "127.0.0.1:50055"

    grouping_schemes: str = ""
    """Comma-separated scheme ids the grouping service loads; empty for every pack found."""
    auth_token: SecretStr | None = None
    """When set, every RPC (but health and reflection) needs ``authorization: Bearer <token>``."""
    grace_period_seconds: float = 10.0
    """How long in-flight RPCs may finish after SIGTERM."""
    code_refresh_seconds: float = 15.0
    """How often the coding service checks for changed code versions."""

    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str = "http://127.0.0.1:4317"

    def address_of(self, service: str) -> str:
        value: str = getattr(self, f"{service}_address")
        return value
