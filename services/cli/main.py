"""The `medpay` command: one entry point reaching every service."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from libs.common.config import Settings
from libs.common.errors import MedpayError
from libs.common.reference import ReferenceDirError
from libs.common.runtime import Runtime

from ..coding import cli as coding_cli
from ..evaluation import review_cli
from ..collection import cli as collection_cli
from ..grouping import cli as grouping_cli
from ..grouping.domain.errors import SchemeError
from ..synth import cli as synth_cli
from . import demo, ops


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medpay", description="Provincial integrated medical-insurance payment "
                                     "platform: services and operator commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    ops.add_commands(sub)
    demo.add_commands(sub)
    coding_cli.add_commands(sub)
    collection_cli.add_commands(sub)
    grouping_cli.add_commands(sub)
    synth_cli.add_commands(sub)
    review_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        if args.command != "serve" and "MEDPAY_LOG_LEVEL" not in os.environ:
            settings.log_level = "WARNING"  # operator commands print their own output; logs only for trouble
        runtime = Runtime(settings, reference_override=getattr(args, "reference_dir", None))
        sys.exit(args.handler(args, runtime))
    except (ReferenceDirError, SchemeError, FileNotFoundError) as problem:
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



