"""`medpay --help` stays fast: it imports no command module and none of the heavy libraries."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from services.cli.main import COMMANDS, build_parser

HEAVY = ("grpc", "sqlalchemy", "asyncpg", "pydantic", "pydantic_settings", "google.protobuf", "rich", "alembic",
         "uvicorn", "orjson", "httpx", "medpay", "libs.common.runtime", "libs.common.config")

_PROBE = """
import json, sys
from services.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded_by(*argv: str) -> tuple[str, set[str]]:
    """What `medpay ARGV` prints and which modules it has imported when argparse is done with it."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True)
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY or m.startswith(HEAVY))


def test_help_lists_every_command_and_imports_nothing_heavy() -> None:
    out, modules = _modules_loaded_by("--help")
    for name, (_, summary) in COMMANDS.items():
        assert name in out and summary.split()[0] in out
    assert _heavy(modules) == []
    assert not [m for m in modules if m.startswith("services.") and not m.startswith("services.cli.main")
                and m not in ("services.cli",)]


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_the_registry_commands_help_without_asyncio_or_service_code(command: str) -> None:
    """`medpay serve --help` lists every declared service from the declarations alone."""
    out, modules = _modules_loaded_by(command, "--help")
    assert "usage: medpay " + command in out
    assert _heavy(modules) == [] and "asyncio" not in modules
    assert not [m for m in modules if m.startswith("services.") and m.split(".")[1] not in ("cli",)
                and not m.endswith(".declaration") and m.count(".") > 1]


def test_a_command_imports_only_its_own_module() -> None:
    out, modules = _modules_loaded_by("synth", "--help")
    assert "--hospitals" in out
    assert "services.synth.cli" in modules
    assert not {"services.coding.cli", "services.collection.cli", "services.cli.demo"} & modules


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_listed_command_is_defined_by_its_module(name: str) -> None:
    parser = build_parser([name])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command = sub.choices[name]
    assert command.get_default("handler") is not None or any(
        isinstance(a, argparse._SubParsersAction) for a in command._actions), f"{name} has no handler"
    assert sorted(sub.choices) == sorted(COMMANDS)
