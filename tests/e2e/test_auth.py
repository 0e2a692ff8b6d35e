"""Auth on (MEDPAY_AUTH_DIR): mutual TLS, signed tokens and a role per method, over real gRPC on loopback;
dev mode without it: loopback only, and said so first."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from medpay.coding.v1 import coding_service_pb2 as coding_pb
from medpay.coding.v1 import coding_service_pb2_grpc as coding_grpc
from medpay.grouping.v1 import dip_pb2
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb
from medpay.grouping.v1 import grouping_service_pb2_grpc as grouping_grpc

from libs.common.grpc.client import caller_auth, open_channel
from libs.common.grpc.server import DevModeError, RunningServer, ServiceSpec, start_server
from libs.common.runtime import Runtime
from services.coding.bootstrap import build_app as build_coding
from services.coding.bootstrap import service_spec as coding_spec
from services.grouping.bootstrap import app_spec as grouping_spec
from services.grouping.bootstrap import build_app as build_grouping

from ..support import ROOT
from .auth_support import make_auth_dir, tls_channel, token
from .rpc_errors import error_info


@pytest.fixture(scope="module")
def auth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_auth_dir(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
async def coding(runtime: Runtime, auth_dir: Path) -> AsyncIterator[RunningServer]:
    settings = runtime.settings.model_copy(update={"auth_dir": auth_dir})
    running = await start_server(coding_spec(build_coding(Runtime(settings)), 3600), settings, "127.0.0.1:0")
    yield running
    await running.stop()


async def _list_systems(channel: grpc.aio.Channel) -> coding_pb.ListCodeSystemsResponse:
    return await coding_grpc.CodingServiceStub(channel).ListCodeSystems(coding_pb.ListCodeSystemsRequest(),
                                                                        timeout=10)


async def test_a_token_of_an_allowed_role_over_mutual_tls_is_served(coding: RunningServer, auth_dir: Path) -> None:
    address = f"127.0.0.1:{coding.port}"
    async with tls_channel(auth_dir, address, token(auth_dir, "hospital", "H33070300089")) as channel:
        reply = await _list_systems(channel)
    assert len(reply.code_systems) > 0


async def test_no_plaintext_no_anonymous_tls_no_missing_or_forged_token(coding: RunningServer, auth_dir: Path,
                                                                        tmp_path: Path) -> None:
    address = f"127.0.0.1:{coding.port}"
    async with open_channel(address) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _list_systems(plain)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    server_only = grpc.ssl_channel_credentials((auth_dir / "ca.pem").read_bytes())
    async with grpc.aio.secure_channel(address, server_only) as anonymous:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _list_systems(anonymous)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE  # no client certificate: no handshake
    async with tls_channel(auth_dir, address) as no_token:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _list_systems(no_token)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    other = make_auth_dir(tmp_path / "other")  # the same shape of material from another CA and signing key
    async with tls_channel(auth_dir, address, token(other, "province", "ops")) as forged:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _list_systems(forged)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert error_info(refused.value)[0].reason == "UNAUTHENTICATED"


async def test_health_needs_tls_but_no_token(coding: RunningServer, auth_dir: Path) -> None:
    async with tls_channel(auth_dir, f"127.0.0.1:{coding.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_role_the_table_does_not_name_is_denied(runtime: Runtime, auth_dir: Path) -> None:
    settings = runtime.settings.model_copy(update={"auth_dir": auth_dir})
    running = await start_server(grouping_spec(build_grouping(Runtime(settings))), settings, "127.0.0.1:0")
    try:
        address = f"127.0.0.1:{running.port}"
        request = dip_pb2.BuildDipCatalogueRequest()
        async with tls_channel(auth_dir, address, token(auth_dir, "hospital", "H33070300089")) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await grouping_grpc.GroupingServiceStub(channel).BuildDipCatalogue(request, timeout=10)
            schemes = await grouping_grpc.GroupingServiceStub(channel).ListSchemes(grouping_pb.ListSchemesRequest(),
                                                                                   timeout=10)
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert error_info(denied.value)[0].reason == "ROLE_NOT_ALLOWED"
        assert len(schemes.schemes) > 0
    finally:
        await running.stop()


async def test_a_method_missing_from_the_tables_is_refused(runtime: Runtime, auth_dir: Path) -> None:
    settings = runtime.settings.model_copy(update={"auth_dir": auth_dir})
    app = build_coding(Runtime(settings))
    spec = coding_spec(app, 3600)
    running = await start_server(ServiceSpec("coding", spec.register, spec.service_names), settings, "127.0.0.1:0",
                                 access={})
    try:
        async with tls_channel(auth_dir, f"127.0.0.1:{running.port}", token(auth_dir, "province", "ops")) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await _list_systems(ch)
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert error_info(denied.value)[0].reason == "METHOD_NOT_DECLARED"
    finally:
        await running.stop()
        await app.engine.dispose()


async def test_a_service_token_counts_only_with_that_services_certificate(coding: RunningServer,
                                                                         auth_dir: Path, runtime: Runtime) -> None:
    address = f"127.0.0.1:{coding.port}"
    service_token = token(auth_dir, "service", "collection")
    async with tls_channel(auth_dir, address, service_token, identity="client") as stolen:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await _list_systems(stolen)
    assert error_info(denied.value)[0].reason == "SERVICE_CERTIFICATE_REQUIRED"
    # What a service process uses (open_service_channel): its certificate and a token it issues itself.
    settings = runtime.settings.model_copy(update={"auth_dir": auth_dir, "auth_identity": "collection",
                                                   "coding_address": address})
    auth = caller_auth(settings)
    assert auth.credentials is not None and callable(auth.token)
    async with open_channel(address, auth=auth) as channel:
        assert len((await _list_systems(channel)).code_systems) > 0


async def test_dev_mode_refuses_a_non_loopback_address(runtime: Runtime) -> None:
    spec = ServiceSpec("nothing", lambda server: None, [])
    with pytest.raises(DevModeError, match="loopback"):
        await start_server(spec, runtime.settings, "0.0.0.0:0")


def test_medpay_serve_in_dev_mode_says_so_first_and_refuses_other_addresses(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDPAY_")}
    env.update(MEDPAY_DATABASE_URL=database_url, MEDPAY_LOG_FORMAT="text")
    refused = subprocess.run([sys.executable, "-m", "services.cli", "serve", "coding", "--address", "0.0.0.0:0"],
                             check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "loopback" in refused.stderr and "MEDPAY_AUTH_DIR" in refused.stderr


def test_medpay_serve_in_dev_mode_logs_so_first(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDPAY_")}
    env.update(MEDPAY_DATABASE_URL=database_url, MEDPAY_LOG_FORMAT="text", MEDPAY_LOG_LEVEL="INFO")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "coding", "--address", "127.0.0.1:0"],
                            env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "DEV MODE" in first and "loopback" in first, first


def test_services_as_processes_talk_mutual_tls_and_serve_tokens(database_url: str, auth_dir: Path) -> None:
    """collection calls coding and grouping with its certificate and service token; the HTTP door is HTTPS."""
    import ssl

    import httpx
    from medpay.collection.v1 import collection_service_pb2 as pb
    from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

    from services.cli.processes import start_services

    from ..support import reference_dir

    env = {"MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(reference_dir()),
           "MEDPAY_AUTH_DIR": str(auth_dir)}
    with start_services(["collection"], env) as running:
        collection = running["collection"]
        context = ssl.create_default_context(cafile=auth_dir / "ca.pem")
        assert httpx.get(f"https://{collection.http_address}/healthz", verify=context).status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://{collection.http_address}/healthz")

        async def lists() -> tuple[int, grpc.StatusCode]:
            request = pb.ListSettlementListsRequest(page_size=5)
            async with tls_channel(auth_dir, collection.address, token(auth_dir, "province", "ops")) as channel:
                served = await pb_grpc.CollectionServiceStub(channel).ListSettlementLists(request, timeout=10)
            async with tls_channel(auth_dir, collection.address, token(auth_dir, "hospital", "H33070300089")) as ch:
                with pytest.raises(grpc.aio.AioRpcError) as denied:
                    await pb_grpc.CollectionServiceStub(ch).StreamCases(pb.StreamCasesRequest(), timeout=10).read()
            return len(served.settlement_lists), denied.value.code()

        import asyncio

        count, code = asyncio.run(lists())
        assert count >= 0 and code is grpc.StatusCode.PERMISSION_DENIED


async def test_the_probe_port_serves_health_in_plaintext_and_nothing_else(runtime: Runtime, auth_dir: Path) -> None:
    from ..support import free_port

    probe = f"127.0.0.1:{free_port()}"
    settings = runtime.settings.model_copy(update={"auth_dir": auth_dir, "health_address": probe})
    app = build_coding(Runtime(settings))
    running = await start_server(coding_spec(app, 3600), settings, "127.0.0.1:0")
    try:
        async with open_channel(probe) as plain:
            reply = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as absent:
                await _list_systems(plain)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert absent.value.code() is grpc.StatusCode.UNIMPLEMENTED
    finally:
        await running.stop()
