"""Auth material for tests: one development auth directory per session, tokens and TLS channels from it."""

from __future__ import annotations

from pathlib import Path

import grpc

from libs.common.auth.material import AuthMaterial
from libs.common.auth.pki import init_auth_dir
from libs.common.auth.roles import Role
from libs.common.auth.tokens import issue_token, load_signing_key
from libs.common.grpc.client import CallerAuth, open_channel
from libs.common.registry import services


def make_auth_dir(out: Path) -> Path:
    init_auth_dir(out, services().names())
    return out


def token(auth_dir: Path, role: Role | str, subject: str, ttl: int = 600) -> str:
    return issue_token(load_signing_key(auth_dir / "token-signing-key.pem"), Role(role), subject, ttl)


def tls_channel(auth_dir: Path, address: str, bearer: str | None = None, identity: str = "client",
                ) -> grpc.aio.Channel:
    """A mutual-TLS channel presenting ``identity``'s certificate, with ``bearer`` on every call."""
    return open_channel(address, token=bearer,
                        auth=CallerAuth(credentials=AuthMaterial.load(auth_dir).channel_credentials(identity)))
