"""Optional gateway authentication of the national interface (x-tif-* headers).

signature = sha256(timestamp + secret + nonce + timestamp), hex; the timestamp (Unix seconds) must be within
the window, and a nonce is accepted once per window (replay protection). Each paasid acts for one institution.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


class GatewayError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Gateway:
    """paasid -> (secret, fixmedins_code); empty means authentication is off."""

    keys: Mapping[str, tuple[str, str]]
    window_seconds: int = 300
    _nonces: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def parse(text: str) -> Gateway:
        """``"paasid:secret:H33070300089,..."``"""
        keys = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            paasid, secret, code = part.split(":")
            keys[paasid] = (secret, code)
        return Gateway(keys)

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def institution(self, headers: Mapping[str, str], now: float | None = None) -> str:
        """The institution the caller may act for; raises ``GatewayError`` (401) when not authenticated."""
        now = time.time() if now is None else now
        paasid = headers.get("x-tif-paasid", "")
        stamp, nonce = headers.get("x-tif-timestamp", ""), headers.get("x-tif-nonce", "")
        given = headers.get("x-tif-signature", "")
        if paasid not in self.keys:
            raise GatewayError("unknown or missing x-tif-paasid", 401)
        if not stamp.isdigit() or abs(now - int(stamp)) > self.window_seconds:
            raise GatewayError(f"x-tif-timestamp must be Unix seconds within {self.window_seconds}s of now", 401)
        if not nonce:
            raise GatewayError("x-tif-nonce is missing", 401)
        secret, code = self.keys[paasid]
        if not hmac.compare_digest(given.lower(), signature(stamp, secret, nonce)):
            raise GatewayError("x-tif-signature does not match", 401)
        self._forget_old(now)
        if f"{paasid}:{nonce}" in self._nonces:
            raise GatewayError("x-tif-nonce was already used (replayed request)", 401)
        self._nonces[f"{paasid}:{nonce}"] = now
        return code

    def _forget_old(self, now: float) -> None:
        if len(self._nonces) > 100_000:
            self._nonces = {k: t for k, t in self._nonces.items() if now - t <= self.window_seconds}


def signature(timestamp: str, secret: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()
