"""The demo's security: an auth directory (``medpay auth init``), x-tif keys for its hospitals, tokens, and the
TLS channels and HTTPS client the demo calls the services with, so it runs the secure configuration.

    auth = DemoAuth.create(data_dir / "demo-auth", hospital_codes)
    with start_services(["collection"], {**env, **auth.env()}) as running:
        async with auth.channel(running["collection"].address) as channel: ...      # province operator token
        async with auth.http_client() as web:
            await web.post(auth.url(http, base, "4101A"), headers=auth.signed(code), content=body)
"""

from __future__ import annotations

import secrets
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx

from libs.common.auth.material import AuthMaterial
from libs.common.auth.pki import CA_CERT, SIGNING_KEY, init_auth_dir
from libs.common.auth.roles import Role
from libs.common.auth.tokens import issue_token, load_signing_key
from libs.common.grpc.client import CallerAuth, open_channel
from libs.common.registry import services
from services.collection.api.gateway import signature

GATEWAY_KEYS = "gateway-keys"
OPERATOR = "demo-operator"


@dataclass(frozen=True)
class DemoAuth:
    directory: Path
    secrets: dict[str, tuple[str, str]]  # institution code -> (paasid, secret)

    @classmethod
    def create(cls, directory: Path, hospitals: Iterable[str]) -> DemoAuth:
        """The directory's CA and keys (made once, kept for later runs) and fresh x-tif keys per hospital."""
        if not (directory / CA_CERT).exists():
            init_auth_dir(directory, services().names())
        keys = {code: (f"demo-{code}", secrets.token_urlsafe(24)) for code in hospitals}
        path = directory / GATEWAY_KEYS
        path.touch(mode=0o600)
        path.write_text("".join(f"{paasid}:{secret}:{code}\n" for code, (paasid, secret) in keys.items()),
                        encoding="utf-8")
        return cls(directory, keys)

    def env(self) -> dict[str, str]:
        """What the service processes are started with: auth on, the hospitals' gateway keys."""
        return {"MEDPAY_AUTH_DIR": str(self.directory), "MEDPAY_GATEWAY_KEYS_FILE": str(self.directory / GATEWAY_KEYS)}

    def token(self, role: Role = Role.PROVINCE, subject: str = OPERATOR, ttl_seconds: int = 3600) -> str:
        return issue_token(load_signing_key(self.directory / SIGNING_KEY), role, subject, ttl_seconds)

    def channel(self, address: str, role: Role = Role.PROVINCE, subject: str = OPERATOR,
                **kwargs: Any) -> grpc.aio.Channel:
        """A mutual-TLS channel with the tools' certificate and a token of ``role`` (the province's operator)."""
        credentials = AuthMaterial.load(self.directory).channel_credentials()
        return open_channel(address, auth=CallerAuth(self.token(role, subject), credentials), **kwargs)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.directory / CA_CERT)

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTPS client trusting the demo CA (the national door serves TLS with auth on)."""
        return httpx.AsyncClient(verify=self.ssl_context(), **kwargs)

    @staticmethod
    def base(http_address: str, path: str) -> str:
        return f"https://{http_address}{path}"

    def signed(self, institution: str) -> dict[str, str]:
        """The x-tif headers of one request of ``institution`` (a fresh nonce each time)."""
        paasid, secret = self.secrets[institution]
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {"x-tif-paasid": paasid, "x-tif-timestamp": stamp, "x-tif-nonce": nonce,
                "x-tif-signature": signature(stamp, secret, nonce)}


async def security_checks(auth: DemoAuth, collection: str, hospitals: list[str]) -> list[tuple[str, str, bool]]:
    """What an outsider and a curious hospital get from the collection service: (attempt, answer, as it should)."""
    from medpay.collection.v1 import collection_service_pb2 as pb
    from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

    own, other = hospitals[0], hospitals[-1]
    checks: list[tuple[str, str, bool]] = []

    async def attempt(what: str, channel: grpc.aio.Channel, request: pb.ListSettlementListsRequest,
                      expected: grpc.StatusCode) -> None:
        async with channel:
            try:
                page = await pb_grpc.CollectionServiceStub(channel).ListSettlementLists(request, timeout=10)
                answer, code = f"OK, {len(page.settlement_lists)} lists", grpc.StatusCode.OK
                right = expected is code and {s.fixmedins_code for s in page.settlement_lists} <= {own}
            except grpc.aio.AioRpcError as refused:
                answer, code = refused.code().name, refused.code()
                right = code is expected
        checks.append((what, answer, right))

    everyone = pb.ListSettlementListsRequest(page_size=10)
    await attempt("plaintext, no certificate", open_channel(collection), everyone, grpc.StatusCode.UNAVAILABLE)
    credentials = AuthMaterial.load(auth.directory).channel_credentials()
    await attempt("mutual TLS, no token", open_channel(collection, auth=CallerAuth(None, credentials)), everyone,
                  grpc.StatusCode.UNAUTHENTICATED)
    await attempt(f"hospital {own} lists {other}'s lists", auth.channel(collection, Role.HOSPITAL, own),
                  pb.ListSettlementListsRequest(fixmedins_code=other), grpc.StatusCode.PERMISSION_DENIED)
    await attempt(f"hospital {own} lists all lists (gets its own only)", auth.channel(collection, Role.HOSPITAL, own),
                  everyone, grpc.StatusCode.OK)
    return checks
