"""The national-interface adapter (the hospitals' door): HTTP + JSON in the spec envelope.

Order of a request: credentials (headers only, before a byte of the body is read), the body (size and time
limits), the JSON, the envelope, the institution the credential acts for, then the transaction's handler from
the dispatch table (``transactions``). Hospitals ``POST {base}/{infno}`` or ``POST {base}`` with ``infno`` in the
body. Every answer is the spec envelope: failures are ``infcode -1`` with an ``err_msg`` saying why, and an HTTP
status that tells the failure (401, 403, 408, 413, 503) unless the operator asks for 200 throughout
(``failure_status=200``) for clients that discard the body of any non-2xx answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.auth.context import principal_var
from libs.common.auth.roles import Principal, Role
from libs.common.errors import MedpayError
from libs.common.logs import request_id_var
from libs.national.clock import china_now

from ..adapters.door_store import MemoryNonces, Nonces, ProcessSerials, Serials
from ..domain.envelope import error_message, read_envelope, read_json
from ..domain.model import Finding, error
from .gateway import Gateway, GatewayError
from .replies import Replies
from .transactions import Call, Transaction

log = logging.getLogger(__name__)

REUSED_MSGID = "msgid already used for other content; resend with a new msgid"
_DRAIN = 4
"""An over-large body up to this many times the limit is read and dropped before the answer."""


async def _drain(request: Request, budget: int) -> None:
    async for chunk in request.stream():
        budget -= len(chunk)
        if budget < 0:
            return


@dataclass(frozen=True)
class DoorPolicy:
    max_body_bytes: int = 2 * 1024 * 1024
    """Largest request accepted (413 beyond)."""
    body_timeout_seconds: float = 30.0
    """Longest a request body may take to arrive once its headers are in (408 beyond)."""
    failure_status: int = 401
    """401: a failure answers with its own HTTP status; 200: every answer is HTTP 200 (infcode tells)."""


class _Refusal(Exception):
    def __init__(self, findings: list[Finding], status: int) -> None:
        super().__init__(findings[0].message_en)
        self.findings = findings
        self.status = status


class NationalInterface:
    def __init__(self, transactions: Mapping[str, Transaction], gateway: Gateway, *, region: str = "000000",
                 policy: DoorPolicy | None = None, nonces: Nonces | None = None,
                 serials: Serials | None = None) -> None:
        self.transactions = dict(transactions)
        self.gateway = gateway
        self.region = region
        self.policy = policy or DoorPolicy()
        self.nonces = nonces or MemoryNonces(gateway.window_seconds)
        self.serials = serials or ProcessSerials()
        self._replies = Replies(region, self.serials)

    def app(self, base: str = "/api/v1/hsa") -> Starlette:
        base = "/" + base.strip("/")
        routes = [Route(base, self.handle, methods=["POST"]), Route(base + "/", self.handle, methods=["POST"]),
                  Route(base + "/{infno}", self.handle, methods=["POST"]),
                  Route("/healthz", self.health, methods=["GET"])]
        return Starlette(routes=routes, exception_handlers={HTTPException: self._http_error})

    async def health(self, request: Request) -> Response:
        return Response(b'{"status":"SERVING"}', media_type="application/json")

    async def handle(self, request: Request) -> Response:
        received = china_now()
        try:
            credential = await self._authenticate(request) if self.gateway.enabled else None
            payload, problems = read_json(await self._body(request))
            if problems:
                return self._fail(received, problems)
            envelope, problems = read_envelope(payload, request.path_params.get("infno"), self.transactions)
            if envelope is None:
                return self._fail(received, problems)
            if credential is not None and credential.institution != envelope.fixmedins_code:
                raise GatewayError(f"this credential acts for {credential.institution}, not "
                                   f"{envelope.fixmedins_code}", 403)
            if credential is not None:
                principal_var.set(Principal(Role.HOSPITAL, credential.institution))  # who acts, for the audit log
            request_id_var.set(envelope.msgid)
            call = Call(envelope, received, partial(self._envelope, received))
            return self._json(await self.transactions[envelope.infno].handle(call))
        except _Refusal as refused:  # the body is not (all) read: the connection closes after the answer
            return self._fail(received, refused.findings, refused.status, close=True)
        except GatewayError as denied:
            unauthenticated = denied.status == 401
            return self._fail(received, [error("ENV-401" if unauthenticated else "ENV-403", "",
                                               "网关认证失败：" + denied.message if unauthenticated
                                               else "无权操作其他机构的数据：" + denied.message, denied.message)],
                              denied.status)
        except MedpayError as failed:
            message = REUSED_MSGID if failed.reason == "REQUEST_ID_REUSED" else failed.message
            return self._fail(received, [error(failed.reason, failed.metadata.get("field", ""), message, message)],
                              503 if failed.code == "UNAVAILABLE" else 200)
        except Exception:
            log.exception("national interface request failed")
            return self._fail(received, [error("INTERNAL", "", "内部错误", "internal error")], 500)

    async def _authenticate(self, request: Request) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        credential = self.gateway.authenticate(headers, time.time())
        if credential.nonce and not await self.nonces.claim(credential.key_id, credential.nonce):
            raise GatewayError("x-tif-nonce was already used (replayed request)", 401)
        return credential

    async def _body(self, request: Request) -> bytes:
        """The body, within the size and time limits. An over-large body up to four times the limit is read to its
        end and dropped before the 413 answer, so that the client, still sending, gets to read it."""
        limit = self.policy.max_body_bytes
        declared = request.headers.get("content-length", "")
        too_large = _Refusal([error("ENV-009", "", f"请求体超过 {limit} 字节", f"request body exceeds {limit} bytes")],
                             413)
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.policy.body_timeout_seconds):
                if declared.isascii() and declared.isdigit() and int(declared) > limit:
                    if int(declared) <= _DRAIN * limit:
                        await _drain(request, _DRAIN * limit)
                    raise too_large
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        await _drain(request, _DRAIN * limit - size)
                        raise too_large
                    chunks.append(chunk)
        except TimeoutError:
            seconds = self.policy.body_timeout_seconds
            raise _Refusal([error("ENV-010", "", f"请求体未在 {seconds:g} 秒内收完",
                                  f"the request body did not arrive within {seconds:g} s")], 408) from None
        return b"".join(chunks)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and methods answer in the envelope too."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        what = f"{request.method} {request.url.path[:100]}"
        return self._fail(china_now(), [error(f"ENV-{status}", "", f"无此接口：{what}",
                                                      f"no such endpoint: {what} (POST the base URL or "
                                                      f"base/{{infno}})")], status)

    def busy(self) -> tuple[int, bytes]:
        """(HTTP status, body) for a connection over the HTTP server's cap, answered before any request is read."""
        findings = [error("ENV-503", "", "连接数已满，请稍后重试", "too many open connections; retry shortly")]
        body = self._envelope(china_now(), -1, error_message(findings),
                              {"findings": [f.as_dict() for f in findings]})
        return (200 if self.policy.failure_status == 200 else 503), orjson.dumps(body)

    def _fail(self, received: datetime, findings: list[Finding], status: int = 200, close: bool = False) -> Response:
        body = self._envelope(received, -1, error_message(findings), {"findings": [f.as_dict() for f in findings]})
        return self._json(body, status, close)

    def _json(self, body: Any, status: int = 200, close: bool = False) -> Response:
        if status != 200 and self.policy.failure_status == 200:
            status = 200
        return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                        headers={"connection": "close"} if close else None)

    def reply(self, infcode: int, err_msg: str, output: Any) -> dict[str, Any]:
        """An answer in the national envelope, now (``Replies.reply``): what a bulk import stores for its lists'
        msgids, so that a replay of an imported list answers as an upload through this door does."""
        return self._replies.reply(infcode, err_msg, output)

    def _envelope(self, received: datetime, infcode: int, err_msg: str, output: Any) -> dict[str, Any]:
        return self._replies.envelope(received, infcode, err_msg, output)
