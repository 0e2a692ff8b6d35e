"""Platform operations: `medpay migrate`, `medpay serve SERVICE`, `medpay db-url`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from libs.common.db.migrate import SERVICE_MIGRATIONS, upgrade
from libs.common.grpc.server import ServiceSpec, serve_until_signalled, start_server
from libs.common.runtime import Runtime

from .workers import report_ready, run_workers

SERVABLE = ("coding", "grouping", "collection")


def add_commands(sub: Any) -> None:
    mig = sub.add_parser("migrate", help="apply database migrations of every service (or one)")
    mig.add_argument("--service", choices=sorted(SERVICE_MIGRATIONS))
    mig.set_defaults(handler=run_migrate)
    serve = sub.add_parser("serve", help="run a service's gRPC server until SIGTERM")
    serve.add_argument("service", choices=SERVABLE)
    serve.add_argument("--address", help="listen address (default MEDPAY_<SERVICE>_ADDRESS)")
    serve.add_argument("--workers", type=int, default=1, help="server processes sharing the port (SO_REUSEPORT)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(handler=run_serve)
    url = sub.add_parser("db-url", help="print the database URL (starting the embedded server if needed)")
    url.set_defaults(handler=lambda args, runtime: print(runtime.database_url) or 0)


def run_migrate(args: argparse.Namespace, runtime: Runtime) -> int:
    for service in [args.service] if args.service else list(SERVICE_MIGRATIONS):
        upgrade(service, runtime.database_url)
        print(f"{service}: schema at head")
    return 0


def run_serve(args: argparse.Namespace, runtime: Runtime) -> int:
    address = args.address or runtime.settings.address_of(args.service)
    if args.workers > 1:
        others = [runtime.settings.collection_http_address] if args.service == "collection" else []
        return run_workers(args.service, address, args.workers, others)
    return asyncio.run(_serve(args.service, runtime, address, args.reuse_port))


async def _serve(service: str, runtime: Runtime, address: str, reuse_port: bool) -> int:
    spec = await _spec(service, runtime, reuse_port)
    running = await start_server(spec, runtime.settings, address, reuse_port=reuse_port)
    print(f"medpay {service} listening on port {running.port}", file=sys.stderr, flush=True)
    report_ready()
    await serve_until_signalled(running)
    return 0


async def _spec(service: str, runtime: Runtime, reuse_port: bool = False) -> ServiceSpec:
    if service == "collection":
        from ..collection.bootstrap import build_app as build_collection
        from ..collection.bootstrap import service_spec as collection_spec

        settings = runtime.settings
        return collection_spec(await build_collection(runtime), settings.collection_http_address,
                               settings.collection_http_base, reuse_port=reuse_port)
    if service == "coding":
        from ..coding.bootstrap import build_app, service_spec

        return service_spec(build_app(runtime), runtime.settings.code_refresh_seconds)
    from ..grouping.bootstrap import build_registry
    from ..grouping.bootstrap import service_spec as grouping_spec

    return grouping_spec(build_registry(runtime))
