"""The `medpay` command: one entry point reaching every service.

Commands are listed in ``COMMANDS`` (name, the module that defines it, one line of help) and their modules are
imported only when that command runs: ``medpay --help`` loads neither grpc nor SQLAlchemy nor any service.

To add a command, write ``add_commands(sub)`` in your module (``sub.add_parser(NAME, ...)`` and
``set_defaults(handler=...)`` with ``handler(args, runtime) -> exit code``; import heavy things inside the
handlers or at module level of that module, never here) and add one line to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("services.cli.ops", "apply database migrations of every service (or one)"),
    "serve": ("services.cli.ops", "run a service's gRPC server until SIGTERM"),
    "db-url": ("services.cli.ops", "print the database URL (starting the embedded server if needed)"),
    "demo": ("services.cli.demo", "run the intake pipeline end to end and write out/report.html"),
    "coding": ("services.coding.cli", "code-standard management"),
    "collection": ("services.collection.cli", "settlement-list intake operations"),
    "evaluation": ("services.evaluation.cli", "performance evaluation: indicators per hospital, dept and doctor"),
    "grouping": ("services.grouping.cli", "group cases (CHS-DRG)"),
    "dip": ("services.grouping.dip_cli", "DIP: build a catalogue from base-year cases, group cases against it"),
    "settlement": ("services.settlement.cli", "settlement and clearing (weights, points or rates, statements)"),
    "synth": ("services.synth.cli", "generate a synthetic prefecture: settlement lists, records, truth"),
    "review": ("services.evaluation.review_cli", "smart review (智能审核): batch review over files, rule sets"),
    "auth": ("libs.common.auth.cli", "development CA, service certificates and signed tokens (MEDPAY_AUTH_DIR)"),
}
"""Every top-level command: (module whose ``add_commands(sub)`` defines it, its line in ``medpay --help``)."""

DESCRIPTION = "Provincial integrated medical-insurance payment platform: services and operator commands."


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``: the full definition of the command ``argv`` names, one-line placeholders for the
    others (so ``--help`` and usage errors list every command without importing any)."""
    parser = argparse.ArgumentParser(prog="medpay", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _command_of(argv)
    if chosen is not None:
        import_module(COMMANDS[chosen][0]).add_commands(_Only(sub, chosen))
    for name, (_, summary) in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=summary)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv``: its first argument when that is a known command (options come after it)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


class _Only:
    """The subparsers action as one module sees it: only the chosen command is defined (a module may define
    several commands, e.g. ops defines migrate, serve and db-url), in the order of ``COMMANDS``."""

    def __init__(self, sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
        self._sub = sub
        self._name = name

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        if name == self._name:
            return self._sub.add_parser(name, **kwargs)  # type: ignore[arg-type]
        return argparse.ArgumentParser(prog=f"medpay {name}", add_help=False)  # defined, never used


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    from libs.common.auth.roles import AuthConfigError
    from libs.common.config import Settings
    from libs.common.errors import MedpayError
    from libs.common.reference import ReferenceDirError
    from libs.common.runtime import Runtime
    from services.grouping.domain.errors import SchemeError

    try:
        settings = Settings()
        if args.command != "serve" and "MEDPAY_LOG_LEVEL" not in os.environ:
            settings.log_level = "WARNING"  # operator commands print their own output; logs only for trouble
        runtime = Runtime(settings, reference_override=getattr(args, "reference_dir", None))
        sys.exit(args.handler(args, runtime))
    except (ReferenceDirError, SchemeError, FileNotFoundError, AuthConfigError) as problem:
        print(f"medpay: {problem}", file=sys.stderr)
        sys.exit(2)
    except MedpayError as refused:  # e.g. a bad --period: the service layer's own words
        print(f"medpay: {refused.message} ({refused.reason})", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # output piped into head & co.: stop quietly
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
