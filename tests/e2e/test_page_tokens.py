"""A forged page token is INVALID_ARGUMENT [INVALID_PAGE_TOKEN] on every paged RPC of every service, never
INTERNAL (protos/README.md, "Paging on every List"): garbage that is not a token at all, and a well-formed token
whose cursor this service never wrote. Every declared service runs in-process (the registry's own specs) over the
session's database; the RPCs are read from the descriptor image, so a new paged RPC is tested without editing
this file (its request needs a parent below only when the default one does not fit)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.descriptor_pool import Default

from libs.common.grpc.server import RunningServer, start_server
from libs.common.paging import encode_token
from libs.common.registry import services
from libs.common.runtime import Runtime

from ..support import ROOT, free_port
from .rpc_errors import error_info

FORGED = {
    "not base64": "%%%not-a-token%%%",
    "not ours": base64.urlsafe_b64encode(b"someone else's cursor").decode(),
    "a cursor the client wrote": base64.urlsafe_b64encode("p1:9|x/é|zz:99|-1".encode()).decode(),
    "an edited token": encode_token("H33070300089")[:-4] + "AAAA",
}
FOREIGN = [encode_token(cursor) for cursor in ("9|x/é|zz:99|-1", "A01", "2026/x", "-1", "9" * 40)]
"""Tokens this code wrote, with cursors of other Lists or none at all (a token carried from one List to
another): answered as a page or refused, never INTERNAL."""
PARENTS: dict[str, dict[str, Any]] = {
    # Requests that need more than {"parent": "regions/330700"} to reach their token: well-formed names of
    # resources that need not exist (the token is read before the parent is looked up).
    "ListCodes": {"parent": "codeSystems/icd10-chs/versions/none"},
    "ListCodeVersions": {"parent": "codeSystems/icd10-chs"},
    "ListDipCatalogues": {"parent": "schemes/dip-2.0"},
    "ListDipGroups": {"parent": "schemes/dip-2.0/catalogues/9"},
    "ListUploadStatistics": {"region": "330700"},
    "ListGroupProfiles": {"parent": "regions/330700/evaluationRuns/none"},
    "ListKnowledgeItems": {"parent": "knowledgeVersions/none"},
    "ListDeductions": {"parent": "regions/330700", "settlement_period": {"year": 2026, "month": 3}},
    "ListGroupWeights": {"parent": "regions/330700/weightTables/2026-w1"},
    "ListHospitalStatements": {"parent": "regions/330700/settlementRuns/" + "0" * 32},
    "ListCaseSettlements": {"parent": "regions/330700/settlementRuns/" + "0" * 32},
}


@dataclass(frozen=True)
class Paged:
    service: str
    method: str
    request: str
    fields: frozenset[str]


def _paged() -> list[Paged]:
    image = descriptor_pb2.FileDescriptorSet.FromString((ROOT / "gen" / "protos.binpb").read_bytes())
    messages = {f".{f.package}.{m.name}": m for f in image.file for m in f.message_type}
    return [Paged(f"{f.package}.{s.name}", m.name, m.input_type[1:],
                  frozenset(x.name for x in messages[m.input_type].field))
            for f in image.file if f.package.startswith("medpay.") for s in f.service for m in s.method
            if "page_token" in {x.name for x in messages[m.input_type].field}]


@pytest.fixture(scope="module")
async def addresses(runtime: Runtime) -> AsyncIterator[dict[str, str]]:
    declared = services()
    ports = {f"{d.name}_address": f"127.0.0.1:{free_port()}" for d in declared}
    ports["collection_http_address"] = f"127.0.0.1:{free_port()}"
    settings = runtime.settings.model_copy(update=ports)
    running: list[RunningServer] = []
    try:
        for name in declared.start_order(declared.names()):
            d = declared.get(name)
            spec = await d.spec(Runtime(settings))
            running.append(await start_server(spec, settings, ports[f"{d.name}_address"]))
        yield {name: address for name, address in ports.items() if name != "collection_http_address"}
    finally:
        for server in reversed(running):
            await server.stop()


def _address_of(service: str, addresses: dict[str, str]) -> str:
    package = service.split(".")[1]
    host = next(d.name for d in services() if package == d.name or f"medpay.{package}.v1" in str(d.access))
    return addresses[f"{host}_address"]


@pytest.mark.parametrize("paged", _paged(), ids=lambda p: p.method)
async def test_a_forged_page_token_is_invalid_argument(paged: Paged, addresses: dict[str, str]) -> None:
    request_class = message_factory.GetMessageClass(Default().FindMessageTypeByName(paged.request))
    fields = PARENTS.get(paged.method, {"parent": "regions/330700"} if "parent" in paged.fields else {})
    async with grpc.aio.insecure_channel(_address_of(paged.service, addresses)) as channel:
        call = channel.unary_unary(f"/{paged.service}/{paged.method}",
                                   request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=lambda b: b)
        for what, token in FORGED.items():
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call(request_class(**fields, page_token=token), timeout=30)
            info, bad = error_info(failed.value)
            assert (failed.value.code(), info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"), \
                f"{paged.method}, {what}: {failed.value.code()} {info.reason} {failed.value.details()}"
            assert [v.field for v in bad.field_violations] == ["page_token"]
        for token in FOREIGN:
            try:
                await call(request_class(**fields, page_token=token), timeout=30)
            except grpc.aio.AioRpcError as refused:
                assert refused.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), \
                    f"{paged.method}, {token}: {refused.code()} {refused.details()}"


def test_every_service_with_a_paged_rpc_is_covered() -> None:
    assert {p.service.split(".")[1] for p in _paged()} >= {"coding", "grouping", "collection", "settlement",
                                                            "review", "evaluation"}
