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

    collection_http_address: str = "127.0.0.1:8080"
    """Where the national-interface HTTP adapter of the collection service listens."""
    collection_http_base: str = "/api/v1/hsa"
    """Base path of the national interface: hospitals POST {base}/{infno} (or {base} with infno in the body)."""
    collection_schemes: str = ""
    """Grouping scheme per region and date, e.g. "330700:2026-07-01:chs-drg-zhejiang-2022"; default chs-drg-1.1."""
    platform_region: str = "330000"
    """Division code of the platform (the province): the first 6 characters of every inf_refmsgid."""
    gateway_keys: SecretStr | None = None
    """Gateway authentication of the national interface: "paasid:secret:H33070300089,...". Unset: off."""
    max_body_bytes: int = 2 * 1024 * 1024
    """Largest national-interface request accepted."""

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
