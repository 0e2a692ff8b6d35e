"""Gateway authentication of the national interface, per institution, from the request headers alone.

A hospital system authenticates one of two ways, as the national gateway lets it:
- **x-tif signature**: ``x-tif-paasid``, ``x-tif-timestamp`` (Unix seconds, within ``window_seconds`` of now),
  ``x-tif-nonce`` (once per key: replays are refused, see ``nonces``) and ``x-tif-signature`` =
  hex sha256(timestamp + secret + nonce + timestamp). Keys: ``paasid:secret:H33070300089`` (the secret may
  contain ":"; it is kept in memory to verify signatures, never logged).
- **apikey** header: keys ``H33070300089:<key>`` (or ``H33070300089:sha256:<hex digest of the key>``), held
  only as sha256 digests.
Each key acts for one institution. Keys come from settings (comma-separated) or files (one entry a line, ``#``
comments). A malformed entry stops start-up with a message naming the entry, never its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from libs.common.errors import FailedPrecondition

INSTITUTION = re.compile(r"H\d{11}")
_HEX_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")
_TOKEN = re.compile(r"[\x21-\x7e]{1,64}")
"""paasids and nonces: 1-64 visible ASCII characters."""
MIN_APIKEY = 16


class GatewayError(Exception):
    """Authentication (401) or authorisation (403) failed; ``message`` says why, for the err_msg."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class GatewayConfigError(FailedPrecondition):
    def __init__(self, message: str) -> None:
        super().__init__(message, reason="GATEWAY_CONFIG_INVALID")


@dataclass(frozen=True, slots=True)
class Credential:
    """Who called: the institution the key acts for, and the nonce to claim (x-tif only)."""

    institution: str
    key_id: str
    nonce: str = ""


@dataclass(frozen=True)
class Gateway:
    """x-tif keys (paasid -> (secret, institution)) and API keys (sha256 hex -> institution); none: off."""

    keys: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    apikeys: Mapping[str, str] = field(default_factory=dict)
    window_seconds: int = 300

    @staticmethod
    def parse(keys: str = "", apikeys: str = "", *, keys_file: Path | None = None, apikeys_file: Path | None = None,
              window_seconds: int = 300) -> Gateway:
        """From settings: comma-separated entries and/or files of one entry a line."""
        signed: dict[str, tuple[str, str]] = {}
        for where, entry in _entries("MEDPAY_GATEWAY_KEYS", keys, keys_file):
            paasid, secret, code = _signed_key(where, entry)
            if paasid in signed:
                raise GatewayConfigError(f"{where}: paasid {paasid!r} is configured twice")
            signed[paasid] = (secret, code)
        hashed: dict[str, str] = {}
        for where, entry in _entries("MEDPAY_GATEWAY_APIKEYS", apikeys, apikeys_file):
            digest, code = _api_key(where, entry)
            if hashed.get(digest, code) != code:
                raise GatewayConfigError(f"{where}: the same API key is configured for two institutions")
            hashed[digest] = code
        return Gateway(signed, hashed, window_seconds)

    @property
    def enabled(self) -> bool:
        return bool(self.keys or self.apikeys)

    def authenticate(self, headers: Mapping[str, str], now: float) -> Credential:
        """The caller's credential from the (lower-case) headers; raises ``GatewayError`` (401) when there is none
        or it is wrong. The nonce of a signed request is still to be claimed (``nonces``)."""
        apikey = headers.get("apikey")
        if apikey is not None:
            code = self.apikeys.get(_digest(apikey.strip()))
            if code is None:
                raise GatewayError("the apikey header carries no known API key", 401)
            return Credential(code, f"apikey:{code}")
        if "x-tif-paasid" not in headers and "x-tif-signature" not in headers:
            raise GatewayError("no credentials: send an apikey header or the x-tif-* signature headers", 401)
        paasid = headers.get("x-tif-paasid", "")
        stamp, nonce = headers.get("x-tif-timestamp", ""), headers.get("x-tif-nonce", "")
        if paasid not in self.keys:
            raise GatewayError("unknown or missing x-tif-paasid", 401)
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or \
                abs(now - int(stamp)) > self.window_seconds:
            raise GatewayError(f"x-tif-timestamp must be Unix seconds within {self.window_seconds}s of now", 401)
        if not _TOKEN.fullmatch(nonce):
            raise GatewayError("x-tif-nonce must be 1-64 visible ASCII characters", 401)
        secret, code = self.keys[paasid]
        if not hmac.compare_digest(headers.get("x-tif-signature", "").lower().encode(),
                                   signature(stamp, secret, nonce).encode()):
            raise GatewayError("x-tif-signature does not match", 401)
        return Credential(code, f"tif:{paasid}", nonce)


def signature(timestamp: str, secret: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _entries(setting: str, text: str, path: Path | None) -> Iterable[tuple[str, str]]:
    """(where, entry): comma-separated in the setting, one a line in the file (blank lines and # comments skipped)."""
    for i, part in enumerate((p.strip() for p in text.split(",")), start=1):
        if part:
            yield f"{setting} entry {i}", part
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as unreadable:
            raise GatewayConfigError(f"{setting}_FILE {path}: {unreadable.strerror}") from None
        for number, line in enumerate(lines, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                yield f"{setting}_FILE {path} line {number}", line.strip()


def _signed_key(where: str, entry: str) -> tuple[str, str, str]:
    paasid, _, rest = entry.partition(":")
    secret, colon, code = rest.rpartition(":")
    if not colon:
        raise GatewayConfigError(f"{where}: expected paasid:secret:H33070300089")
    if not _TOKEN.fullmatch(paasid):
        raise GatewayConfigError(f"{where}: expected paasid:secret:H33070300089 with a paasid of 1-64 visible "
                                 f"characters")
    if not secret:
        raise GatewayConfigError(f"{where}: the secret of paasid {paasid!r} is empty")
    if not INSTITUTION.fullmatch(code):
        raise GatewayConfigError(f"{where}: the institution code of paasid {paasid!r} must be H + 11 digits")
    return paasid, secret, code


def _api_key(where: str, entry: str) -> tuple[str, str]:
    code, _, key = entry.partition(":")
    if not INSTITUTION.fullmatch(code.strip()):
        raise GatewayConfigError(f"{where}: expected H33070300089:<key> (an institution code of H + 11 digits)")
    hashed = _HEX_DIGEST.fullmatch(key)
    if hashed:
        return hashed.group(1).lower(), code.strip()
    if len(key) < MIN_APIKEY:
        raise GatewayConfigError(f"{where}: the API key of {code.strip()} is shorter than {MIN_APIKEY} characters")
    return _digest(key), code.strip()
