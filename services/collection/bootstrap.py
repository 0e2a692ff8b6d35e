"""Wiring of the collection service: gRPC for the prefecture platforms, HTTP for the hospitals, one service layer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth.material import AuthMaterial
from libs.common.config import Settings
from libs.common.db.engine import session_factory
from libs.common.grpc.client import caller_auth
from libs.common.grpc.server import ServiceSpec, is_loopback
from libs.common.runs.operations import OPERATIONS_SERVICE, add_operations
from libs.common.runtime import Runtime
from libs.common.telemetry import traced_asgi

from .adapters.clients import CodingClient, GroupingClient
from .adapters.door_store import PostgresNonces, PostgresSerials
from .adapters.review_client import ReviewClient
from .adapters.settlement_client import SettlementClient
from .api.fee_details import SERVICE_NAME as FEE_DETAIL_SERVICE
from .api.fee_details import FeeDetailServicer
from .api.fee_details import add_to_server as add_fee_details
from .api.gateway import Gateway, GatewayConfigError
from .api.http import DoorPolicy, NationalInterface
from .api.http_server import HttpDoor, HttpDoorConfig
from .api.servicer import SERVICE_NAME, CollectionServicer, add_to_server
from .api.transactions import national_transactions
from .domain.model import scheme_kind
from .domain.schemes import SchemeSchedule
from .service_layer.cases import CaseChecker
from .service_layer.fee_details import FeeDetails
from .service_layer.feed import CaseFeed
from .service_layer.import_jobs import FileImports
from .service_layer.joins import Joiner
from .service_layer.queries import Lists
from .service_layer.records import RecordIntake
from .service_layer.unit_of_work import CollectionUnitOfWork
from .service_layer.uploads import Uploads

log = logging.getLogger(__name__)
PREFERRED_SCHEME = "chs-drg-1.1"


@dataclass
class CollectionApp:
    engine: AsyncEngine
    new_uow: Callable[[], CollectionUnitOfWork]
    coding: CodingClient
    grouping: GroupingClient
    uploads: Uploads
    lists: Lists
    interface: NationalInterface
    schedule: SchemeSchedule
    runtime: Runtime
    fee_details: FeeDetails
    checker: CaseChecker
    joiner: Joiner
    records: RecordIntake
    review: ReviewClient
    imports: FileImports
    settlement: SettlementClient
    _sweeper: asyncio.Task[None] | None = None

    async def close(self) -> None:
        await self.coding.close()
        await self.grouping.close()
        await self.review.close()
        await self.settlement.close()
        await self.engine.dispose()


async def build_app(runtime: Runtime) -> CollectionApp:
    s = runtime.settings
    auth = caller_auth(s)  # mutual TLS and this service's token with MEDPAY_AUTH_DIR
    engine = runtime.engine(pool_size=24)
    sessions = session_factory(engine)

    def new_uow() -> CollectionUnitOfWork:
        return CollectionUnitOfWork(sessions)

    coding = CodingClient(s.coding_address, auth=auth)
    grouping = GroupingClient(s.grouping_address, auth=auth)
    schedule = SchemeSchedule.parse(s.collection_schemes, await _default_scheme(grouping))
    checker = CaseChecker(coding, grouping, schedule)
    uploads = Uploads(new_uow, checker)
    joiner = Joiner(new_uow, checker)
    lists = Lists(new_uow)
    fee_details = FeeDetails(new_uow, coding)
    review = ReviewClient(s.evaluation_address, auth=auth)
    settlement = SettlementClient(s.settlement_address, auth=auth)
    interface = await national_interface(runtime, engine, uploads, lists, fee_details=fee_details, review=review,
                                         settlement=settlement)
    return CollectionApp(engine, new_uow, coding, grouping, uploads, lists, interface, schedule, runtime,
                         fee_details, checker, joiner, RecordIntake(new_uow, joiner), review, FileImports(engine),
                         settlement)


async def national_interface(runtime: Runtime, engine: AsyncEngine, uploads: Uploads, lists: Lists, *,
                             fee_details: FeeDetails | None = None,
                             review: ReviewClient | None = None,
                             settlement: SettlementClient | None = None) -> NationalInterface:
    """The hospitals' door: its dispatch table, credentials, nonces and serials shared through PostgreSQL."""
    s = runtime.settings
    gateway = gateway_of(s)
    serials = PostgresSerials(engine)
    await serials.start()
    table = national_transactions(uploads, lists, s.platform_region, serials, fee_details=fee_details, review=review,
                                  settlement=settlement)
    return NationalInterface(table, gateway,
                             region=s.platform_region, policy=door_policy(s),
                             nonces=PostgresNonces(engine, s.gateway_window_seconds), serials=serials)


def gateway_of(s: Settings) -> Gateway:
    """The door's credentials: x-tif keys and API keys from MEDPAY_GATEWAY_KEYS / MEDPAY_GATEWAY_APIKEYS and
    their _FILE forms (a malformed entry stops start-up)."""
    return Gateway.parse(s.gateway_keys.get_secret_value() if s.gateway_keys else "",
                         s.gateway_apikeys.get_secret_value() if s.gateway_apikeys else "",
                         keys_file=s.gateway_keys_file, apikeys_file=s.gateway_apikeys_file,
                         window_seconds=s.gateway_window_seconds)


def door_policy(s: Settings) -> DoorPolicy:
    """Body limits and the HTTP status of failures (MEDPAY_GATEWAY_FAILURE_STATUS: 401, or 200 throughout)."""
    return DoorPolicy(max_body_bytes=s.max_body_bytes, body_timeout_seconds=s.http_body_timeout_seconds,
                      failure_status=s.gateway_failure_status)


async def _default_scheme(grouping: GroupingClient) -> str:
    """chs-drg-1.1 when the grouping service has it, else its first CHS-DRG scheme (the bundled sample pack);
    never a DIP scheme (a DIP catalogue is one region's, scheduled explicitly)."""
    available = [s for s in await grouping.schemes() if scheme_kind(s) == "DRG"]
    if not available:
        raise RuntimeError("the grouping service has no CHS-DRG scheme loaded")
    return PREFERRED_SCHEME if PREFERRED_SCHEME in available else available[0]


def service_spec(app: CollectionApp, http_address: str, http_base: str, *, reuse_port: bool = False) -> ServiceSpec:
    """Both doors in one server: gRPC (the spec's server) and the national HTTP door, started and drained
    together. Without gateway credentials the HTTP door serves loopback only (development)."""
    s = app.runtime.settings
    servicer = CollectionServicer(app.uploads, app.lists, CaseFeed(app.new_uow), app.records,
                                  max_list_bytes=s.max_body_bytes)
    if not app.interface.gateway.enabled and not is_loopback(http_address):
        raise GatewayConfigError(
            f"the national HTTP door has no credentials (MEDPAY_GATEWAY_KEYS or MEDPAY_GATEWAY_APIKEYS, or their "
            f"_FILE forms): it serves loopback only in development, not {http_address}")
    door = HttpDoor(traced_asgi(app.interface.app(http_base)), HttpDoorConfig(
        http_address, max_connections=s.http_max_connections, header_timeout_seconds=s.http_header_timeout_seconds,
        keepalive_seconds=s.http_keepalive_seconds, reuse_port=reuse_port,
        ssl_context=AuthMaterial.load(s.auth_dir).http_ssl_context("collection") if s.auth_dir else None),
        app.interface.busy)
    scheme = "https" if s.auth_dir else "http"

    async def on_start() -> None:
        await door.start()
        log.info("national interface listening on %s://%s%s", scheme, http_address, http_base)
        app._sweeper = asyncio.create_task(app.joiner.sweep_forever())  # joins what a crash left, then keeps at it

    async def on_stop() -> None:
        if app._sweeper is not None:
            app._sweeper.cancel()
        await door.stop()
        await app.close()

    fee_servicer = FeeDetailServicer(app.fee_details)
    imports = app.imports.operations()

    def add_servicers(grpc_server: grpc.aio.Server) -> None:
        add_to_server(servicer, grpc_server)
        add_fee_details(fee_servicer, grpc_server)
        add_operations(grpc_server, imports)  # the file imports (`medpay collection import ...`), as operations

    return ServiceSpec("collection", add_servicers, [SERVICE_NAME, FEE_DETAIL_SERVICE, OPERATIONS_SERVICE],
                       on_start, on_stop,
                       options=grpc_message_limits(s.max_body_bytes))


MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""The largest gRPC request: a batch of 10,000 settlement records (about 1.3 KiB each) or fee-detail lines."""


def grpc_message_limits(max_list_bytes: int) -> list[tuple[str, int]]:
    """Requests up to 32 MiB (a batch of records or fee details; never less than a list and its other fields);
    a list itself is held to the HTTP door's limit by the servicer, unread (LIST_TOO_LARGE). Answers (a stored
    list with its findings, a page of lists, a batch's results) get 32 MiB too."""
    receive = max(MAX_MESSAGE_BYTES, max_list_bytes + 64 * 1024)
    return [("grpc.max_receive_message_length", receive), ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]

