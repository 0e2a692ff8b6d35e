"""What a process reads from ``MEDPAY_AUTH_DIR``: TLS credentials for its server and its calls, the token
verifier, and (when the directory holds the signing key, as the demo's and a dev cluster's do) its own
short-lived ``service`` token; otherwise the service token comes from ``MEDPAY_AUTH_TOKEN`` (an operator issues
it with ``medpay auth token --role service --subject <name>`` and mounts it from a Secret).
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from .pki import CA_CERT, CLIENT, SIGNING_KEY, VERIFY_KEY, AuthDirError, cert_file, key_file
from .roles import SERVICE
from .tokens import TokenVerifier, issue_token, load_signing_key, load_verify_key

SERVICE_TOKEN_TTL = 3600


@dataclass(frozen=True)
class AuthMaterial:
    directory: Path

    @classmethod
    def load(cls, directory: Path) -> AuthMaterial:
        for name in (CA_CERT, VERIFY_KEY):
            if not (directory / name).is_file():
                raise AuthDirError(f"MEDPAY_AUTH_DIR={directory} has no {name} (create one with "
                                   f"`medpay auth init --out {directory}`)")
        return cls(directory)

    def _read(self, path: Path) -> bytes:
        if not path.is_file():
            raise AuthDirError(f"{path} is missing from MEDPAY_AUTH_DIR")
        return path.read_bytes()

    @property
    def ca(self) -> bytes:
        return self._read(self.directory / CA_CERT)

    def pair(self, name: str) -> tuple[bytes, bytes]:
        """(private key, certificate chain) of ``name`` (a service, or ``client``)."""
        return self._read(key_file(self.directory, name)), self._read(cert_file(self.directory, name))

    def server_credentials(self, name: str) -> grpc.ServerCredentials:
        """TLS with this service's certificate; callers must present a certificate of the same CA (mutual TLS)."""
        return grpc.ssl_server_credentials([self.pair(name)], root_certificates=self.ca, require_client_auth=True)

    def channel_credentials(self, name: str = CLIENT) -> grpc.ChannelCredentials:
        key, cert = self.pair(name)
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=key, certificate_chain=cert)

    def http_ssl_context(self, name: str) -> ssl.SSLContext:
        """TLS for an HTTP door (the national interface): this service's certificate, TLS 1.2 or later; callers
        authenticate by the door's own scheme (x-tif signatures or API keys), not by certificates."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_file(self.directory, name), key_file(self.directory, name))
        return context

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(load_verify_key(self.directory / VERIFY_KEY))

    def can_sign(self) -> bool:
        return (self.directory / SIGNING_KEY).is_file()

    def service_tokens(self, name: str) -> ServiceTokens:
        return ServiceTokens(self, name)


class ServiceTokens:
    """This service's own token, issued from the directory's signing key and renewed at half its life."""

    def __init__(self, material: AuthMaterial, name: str, ttl_seconds: int = SERVICE_TOKEN_TTL) -> None:
        self._key = load_signing_key(material.directory / SIGNING_KEY)
        self._name = name
        self._ttl = ttl_seconds
        self._token = ""
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() >= self._renew_at:
                self._token = issue_token(self._key, SERVICE, self._name, self._ttl)
                self._renew_at = time.monotonic() + self._ttl / 2
            return self._token
