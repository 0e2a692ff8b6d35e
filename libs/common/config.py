"""Settings: read once from MEDPAY_* environment variables at bootstrap, then passed in (never global)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
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
    # -- the national HTTP door (collection) ---------------------------------------------------------------
    gateway_keys: SecretStr | None = None
    """x-tif signature keys of the national interface: "paasid:secret:H33070300089,...". With no keys and no API
    keys, authentication is off (and the door binds loopback only)."""
    gateway_keys_file: Path | None = None
    """The same entries, one a line (# comments): for secrets holding a comma, and for mounted Secrets."""
    gateway_apikeys: SecretStr | None = None
    """API keys (the ``apikey`` header) per institution: "H33070300089:<key>,..." (or H...:sha256:<hex digest>)."""
    gateway_apikeys_file: Path | None = None
    """The same entries, one a line."""
    gateway_window_seconds: int = 300
    """How far x-tif-timestamp may be from the server's clock; nonces are kept twice as long."""
    gateway_failure_status: Literal[401, 200] = 401
    """401: failures answer with their HTTP status (401, 403, 408, 413, 503); 200: always HTTP 200, for clients
    that discard the body of a non-2xx answer (the envelope's infcode -1 and err_msg say what failed)."""

    @field_validator("gateway_failure_status", mode="before")
    @classmethod
    def _status_from_text(cls, value: object) -> object:
        """An environment variable is text: "200" is the status 200 (a Literal of ints takes only ints)."""
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    max_body_bytes: int = 2 * 1024 * 1024
    """Largest national-interface request accepted; gRPC list uploads are held to the same size."""
    http_max_connections: int = 1000
    """Open connections of the HTTP door per process; more are closed at once (answered 503)."""
    http_header_timeout_seconds: float = 10.0
    """Longest a connection may take to send a request's headers (idle new connections included)."""
    http_keepalive_seconds: float = 5.0
    """How long an idle keep-alive connection stays open between requests."""
    http_body_timeout_seconds: float = 30.0
    """Longest a request body may take to arrive (408 beyond)."""
    serve_reuse_port: bool = False
    """Set by ``medpay serve --workers N`` in each worker: every door of the process binds with SO_REUSEPORT."""

    settlement_review_deductions: bool = False
    """Settlement's year-end clearings read smart review's confirmed deductions for the year from the evaluation
    service (``medpay.review.v1`` ListDeductions at ``evaluation_address``) and deduct them besides the policy's,
    pinned in each run's parameters; later runs deduct what was confirmed for a cleared year after its clearing.
    Off: the policy's deductions only (a settlement without review)."""

    grouping_schemes: str = ""
    """Comma-separated scheme ids the grouping service loads; empty for every pack found."""
    auth_dir: Path | None = None
    """Directory of ``medpay auth init`` (CA, certificates, token keys). Set: mutual TLS and signed tokens with a
    role per method on every RPC. Unset: dev mode, loopback only."""
    health_address: str = ""
    """A second, plaintext port serving only grpc.health.v1 (kubelet's gRPC probes speak no TLS); empty: none."""
    auth_identity: str = ""
    """Whose certificate and service token this process uses for its calls (``medpay serve`` sets the service's
    name); empty: the tools' ``client`` certificate."""
    auth_token: SecretStr | None = None
    """With MEDPAY_AUTH_DIR: the service token this process sends when the directory holds no signing key.
    Without it (dev mode): a shared secret every RPC (but health and reflection) must bear."""
    grace_period_seconds: float = 10.0
    """How long in-flight RPCs may finish after SIGTERM."""
    code_refresh_seconds: float = 15.0
    """How often the coding service checks for changed code versions."""
    dip_refresh_seconds: float = 15.0
    """How often a grouping process looks for DIP catalogue versions published by another process."""

    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str = "http://127.0.0.1:4317"

    def address_of(self, service: str) -> str:
        value: str = getattr(self, f"{service}_address")
        return value
