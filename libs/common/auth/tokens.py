"""Signed tokens (JWT, EdDSA over Ed25519): ``authorization: Bearer <token>`` on every RPC.

Claims: ``iss`` "medpay", ``sub`` (institution code, division code, operator or service name), ``role``,
``iat``/``nbf``/``exp`` and a random ``jti``. Only EdDSA is accepted when verifying (no algorithm from the token
is trusted), the issuer must match, and expiry is enforced with 30 s of leeway for clock skew.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .roles import SUBJECT, AuthConfigError, Principal, Role

ISSUER = "medpay"
ALGORITHM = "EdDSA"
LEEWAY_SECONDS = 30
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 366 * 24 * 3600


class TokenError(AuthConfigError):
    """A token that cannot be issued or is not accepted; the message says why (never echoes the token)."""


def check_subject(role: Role, subject: str) -> None:
    if not SUBJECT[role].fullmatch(subject):
        raise TokenError(f"subject {subject!r} is not a valid {role.value} subject "
                         f"(pattern {SUBJECT[role].pattern})")


def load_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TokenError(f"{path} is not an Ed25519 private key")
    return key


def load_verify_key(path: Path) -> ed25519.Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TokenError(f"{path} is not an Ed25519 public key")
    return key


def issue_token(key: ed25519.Ed25519PrivateKey, role: Role, subject: str,
                ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None) -> str:
    check_subject(role, subject)
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise TokenError(f"--ttl must be between 1 and {MAX_TTL_SECONDS} seconds, not {ttl_seconds}")
    issued = int(time.time() if now is None else now)
    claims = {"iss": ISSUER, "sub": subject, "role": role.value, "iat": issued, "nbf": issued,
              "exp": issued + ttl_seconds, "jti": secrets.token_hex(12)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


class TokenVerifier:
    """Checks tokens against the platform's public key; answers the principal they name."""

    def __init__(self, key: ed25519.Ed25519PublicKey) -> None:
        self._key = key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], issuer=ISSUER, leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.PyJWTError as bad:
            raise TokenError(f"the token is not valid: {type(bad).__name__}") from None
        try:
            role = Role(claims.get("role", ""))
        except ValueError:
            raise TokenError("the token names no known role") from None
        subject = str(claims["sub"])
        check_subject(role, subject)
        return Principal(role, subject)
