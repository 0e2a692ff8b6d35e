"""The national-interface adapter (the hospitals' door): HTTP + JSON in the spec envelope.

It only translates: envelope in, a service-layer call, envelope out. `POST {base}/{infno}` and `POST {base}`
(infno in the body). Every answer is the spec envelope; failures are `infcode -1` with an `err_msg` naming each
failing field and rule.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.errors import MedpayError

from ..domain.envelope import Envelope, content_digest, error_message, read_envelope, stamp
from ..domain.model import Finding, ListStatus, error
from ..service_layer.queries import Lists
from ..service_layer.uploads import Accepted, Outcome, UploadCommand, Uploads
from .gateway import Gateway, GatewayError
from .views import stored_list_view

log = logging.getLogger(__name__)
_counter = itertools.count(1)


class NationalInterface:
    def __init__(self, uploads: Uploads, lists: Lists, gateway: Gateway, *, region: str = "000000",
                 max_body_bytes: int = 2 * 1024 * 1024) -> None:
        self._uploads = uploads
        self._lists = lists
        self._gateway = gateway
        self._region = region
        self._max_body = max_body_bytes

    def app(self, base: str = "/api/v1/hsa") -> Starlette:
        base = "/" + base.strip("/")
        return Starlette(routes=[Route(base, self.handle, methods=["POST"]),
                                 Route(base + "/{infno}", self.handle, methods=["POST"]),
                                 Route("/healthz", self.health, methods=["GET"])])

    async def health(self, request: Request) -> Response:
        return Response(b'{"status":"SERVING"}', media_type="application/json")

    async def handle(self, request: Request) -> Response:
        received = datetime.now()
        raw = await self._body(request)
        if raw is None:
            return self._fail(received, [error("ENV-009", "", f"请求体超过 {self._max_body} 字节",
                                               f"request body exceeds {self._max_body} bytes")], status=413)
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as bad:
            return self._fail(received, [error("ENV-000", "", "请求体不是合法 JSON",
                                               f"request body is not valid JSON: {bad}")])
        envelope, problems = read_envelope(payload, request.path_params.get("infno"))
        if envelope is None:
            return self._fail(received, problems)
        try:
            if self._gateway.enabled:
                allowed = self._gateway.institution({k.lower(): v for k, v in request.headers.items()})
                if allowed != envelope.fixmedins_code:
                    raise GatewayError(f"this gateway key acts for {allowed}, not {envelope.fixmedins_code}", 403)
            return await self._dispatch(envelope, received)
        except GatewayError as denied:
            return self._fail(received, [error("ENV-401" if denied.status == 401 else "ENV-403", "",
                                               "网关认证失败" if denied.status == 401 else "无权操作其他机构的数据",
                                               denied.message)], status=denied.status)
        except MedpayError as failed:
            return self._fail(received, [error(failed.reason, failed.metadata.get("field", ""), failed.message,
                                               failed.message)], status=503 if failed.code == "UNAVAILABLE" else 200)
        except Exception:
            log.exception("national interface %s failed", envelope.infno)
            return self._fail(received, [error("INTERNAL", "", "内部错误", "internal error")], status=500)

    async def _body(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max_body:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _dispatch(self, env: Envelope, received: datetime) -> Response:
        if env.infno == "4101A":
            return await self._upload(env, received)
        if env.infno == "4102":
            return await self._change_status(env, received)
        if env.infno == "4103":
            return await self._query(env, received)
        sign_no = f"{self._region}{stamp(received)[:14]}{next(_counter) % 10**6:06d}"
        return self._ok(received, {"signinoutb": {"sign_time": received.strftime("%Y-%m-%d %H:%M:%S"),
                                                  "sign_no": sign_no}})

    async def _upload(self, env: Envelope, received: datetime) -> Response:
        cmd = UploadCommand(key=f"msgid:{env.fixmedins_code}:{env.msgid}",
                            digest=content_digest(env.infno, env.fixmedins_code, env.body),
                            fixmedins_code=env.fixmedins_code, fixmedins_name=env.fixmedins_name, body=env.body)

        def render(outcome: Outcome) -> dict[str, Any]:
            if isinstance(outcome, Accepted):
                return self._envelope(received, 0, "", {
                    "setl_list_id": outcome.setl_list_id, "revision": outcome.revision,
                    "drg": outcome.group.drg if outcome.group else "",
                    "warnings": [w.as_dict() for w in outcome.warnings]})
            return self._envelope(received, -1, error_message(list(outcome.findings)),
                                  {"findings": [f.as_dict() for f in outcome.findings]})

        result = await self._uploads.upload(cmd, render)
        return _json(result.response)

    async def _change_status(self, env: Envelope, received: datetime) -> Response:
        body = env.body
        code = str(body.get("stas_type", ""))
        if code not in ("0", "1"):
            return self._fail(received, [error("QC-REQ-001", "input.stas_type", "stas_type 须为 0（撤销）或 1（有效）",
                                               "stas_type must be 0 (revoke) or 1 (active)")])
        status = ListStatus.ACTIVE if code == "1" else ListStatus.REVOKED
        stored = await self._lists.set_status(status, str(body.get("reason") or "4102"), owner=env.fixmedins_code,
                                              **self._identity(env, body))
        return self._ok(received, {"setl_list_id": stored.setl_list_id, "status": stored.status})

    async def _query(self, env: Envelope, received: datetime) -> Response:
        who = self._identity(env, env.body)
        stored = await self._lists.get(who.get("setl_list_id", ""), who.get("fixmedins_code", ""),
                                       who.get("setl_id", ""), owner=env.fixmedins_code)
        return self._ok(received, stored_list_view(stored))

    @staticmethod
    def _identity(env: Envelope, body: Mapping[str, Any]) -> dict[str, str]:
        """A hospital names its list by setl_id (within its own institution) or by the platform's list id;
        the institution is always the envelope's, so a hospital can only reach its own lists."""
        setl_list_id = str(body.get("setl_list_id") or "")
        if setl_list_id:
            return {"setl_list_id": setl_list_id}
        return {"fixmedins_code": env.fixmedins_code, "setl_id": str(body.get("setl_id") or "")}

    def _ok(self, received: datetime, output: Any) -> Response:
        return _json(self._envelope(received, 0, "", output))

    def _fail(self, received: datetime, findings: list[Finding], status: int = 200) -> Response:
        body = self._envelope(received, -1, error_message(findings), {"findings": [f.as_dict() for f in findings]})
        return _json(body, status)

    def _envelope(self, received: datetime, infcode: int, err_msg: str, output: Any) -> dict[str, Any]:
        """inf_refmsgid: region (6) + yyyyMMddHHmmss + 10 digits unique within this process (pid + counter)."""
        refmsgid = f"{self._region}{stamp(received)[:14]}{os.getpid() % 10000:04d}{next(_counter) % 10**6:06d}"
        return {"infcode": infcode, "inf_refmsgid": refmsgid, "refmsg_time": stamp(received),
                "respond_time": stamp(datetime.now()), "err_msg": err_msg, "output": output}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
