"""`medpay auth init --out DIR` and `medpay auth token --role R --subject S [--ttl SECONDS]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .roles import Role

if TYPE_CHECKING:
    from libs.common.runtime import Runtime


def add_commands(sub: Any) -> None:
    auth = sub.add_parser("auth", help="development CA, service certificates and signed tokens (MEDPAY_AUTH_DIR)",
                          description="Create the material MEDPAY_AUTH_DIR points at, and issue tokens.")
    verbs = auth.add_subparsers(dest="verb", required=True, metavar="VERB")
    init = verbs.add_parser("init", help="create a development CA, a certificate per service, tool certificate "
                                         "and the token signing key pair")
    init.add_argument("--out", type=Path, required=True, help="directory to write (created; 0600 keys)")
    init.add_argument("--host", action="append", default=[],
                      help="an extra DNS name or IP address for every service certificate (repeatable)")
    init.add_argument("--force", action="store_true", help="replace the material of an existing directory")
    init.set_defaults(handler=run_init)
    token = verbs.add_parser("token", help="print a signed token (JWT, EdDSA) for a role and subject")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--subject", required=True,
                       help="hospital: institution code (H + 11 digits); prefecture: division code (6 digits); "
                            "province: operator name; service: service name")
    token.add_argument("--ttl", type=int, default=3600, metavar="SECONDS", help="lifetime (default 3600)")
    token.add_argument("--dir", type=Path, help="auth directory with the signing key (default MEDPAY_AUTH_DIR)")
    token.set_defaults(handler=run_token)


def run_init(args: argparse.Namespace, runtime: Runtime) -> int:
    from libs.common.registry import services

    from .pki import init_auth_dir

    written = init_auth_dir(args.out, services().names(), force=args.force, extra_hosts=args.host)
    print(f"wrote {len(written)} files to {args.out} (the CA, a certificate per service and for tools, the token "
          f"keys); use it with MEDPAY_AUTH_DIR={args.out}")
    return 0


def run_token(args: argparse.Namespace, runtime: Runtime) -> int:
    from .pki import SIGNING_KEY, AuthDirError
    from .tokens import issue_token, load_signing_key

    directory = args.dir or runtime.settings.auth_dir
    if directory is None:
        raise AuthDirError("no auth directory: pass --dir DIR or set MEDPAY_AUTH_DIR")
    key_path = Path(directory) / SIGNING_KEY
    if not key_path.is_file():
        raise AuthDirError(f"{key_path} is missing: tokens are issued where the signing key is")
    print(issue_token(load_signing_key(key_path), Role(args.role), args.subject, args.ttl))
    sys.stdout.flush()
    return 0
