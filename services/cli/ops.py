"""Platform operations: `medpay migrate`, `medpay serve SERVICE`, `medpay db-url`.

Both read the service registry (``libs.common.registry``): a newly declared service is servable and migrated
without a change here.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from libs.common.registry import services

if TYPE_CHECKING:
    from libs.common.runtime import Runtime


def add_commands(sub: Any) -> None:
    registry = services()
    mig = sub.add_parser("migrate", help="apply database migrations of every service (or one)")
    mig.add_argument("--service", choices=[d.name for d in registry if d.schemas],
                     help="only this service's schemas")
    mig.set_defaults(handler=run_migrate)
    serve = sub.add_parser("serve", help="run a service's gRPC server until SIGTERM",
                           description="Run a service's gRPC server until SIGTERM. Services: " + "; ".join(
                               f"{d.name}: {d.summary}" for d in registry))
    serve.add_argument("service", choices=registry.names())
    serve.add_argument("--address", help="listen address (default MEDPAY_<SERVICE>_ADDRESS)")
    serve.add_argument("--workers", type=int, default=1, help="server processes sharing the port (SO_REUSEPORT)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(handler=run_serve)
    url = sub.add_parser("db-url", help="print the database URL (starting the embedded server if needed)")
    url.set_defaults(handler=lambda args, runtime: print(runtime.database_url) or 0)


def run_migrate(args: argparse.Namespace, runtime: Runtime) -> int:
    from libs.common.db.migrate import upgrade_all, upgrade_service

    def done(schema: str) -> None:
        print(f"{schema}: schema at head")

    if args.service:
        upgrade_service(args.service, runtime.database_url, done=done)
    else:
        upgrade_all(runtime.database_url, done=done)
    return 0


def run_serve(args: argparse.Namespace, runtime: Runtime) -> int:
    import asyncio  # here, not at the top: `medpay serve --help` stays fast

    from .workers import run_workers

    address = args.address or runtime.settings.address_of(args.service)
    if args.workers > 1:
        http = services().get(args.service).http
        others = [getattr(runtime.settings, http.address_setting)] if http else []
        return run_workers(args.service, address, args.workers, others)
    return asyncio.run(_serve(args.service, runtime, address, args.reuse_port))


async def _serve(service: str, runtime: Runtime, address: str, reuse_port: bool) -> int:
    from libs.common.grpc.server import announce_mode, serve_until_signalled, start_server, stop_requested

    from .workers import report_ready

    announce_mode(runtime.settings, service, address)  # the first log line: auth on, or dev mode on loopback
    runtime.settings.auth_identity = runtime.settings.auth_identity or service  # its calls carry its identity
    runtime.settings.serve_reuse_port = reuse_port  # the service's other doors bind the same way
    spec = await services().get(service).spec(runtime)
    stop = stop_requested()
    running = await start_server(spec, runtime.settings, address, reuse_port=reuse_port)
    print(f"medpay {service} listening on port {running.port}", file=sys.stderr, flush=True)
    report_ready()
    await serve_until_signalled(running, stop)
    return 0
