"""`medpay settlement weights|run` (arguments declared in ``cli.py``): the settlement service's runs from the
command line, with a progress bar.

Both read the policy from a parameter file (FORMAT.md's params.json), store it as a version of the region's
policy for the year (idempotently: the same file is the same version) and name it in the run, so a file run
never changes which version is active. ``run`` settles a month (``--month``: the monthly advance with
adjustments of months advanced before) or the year (the year-end clearing) against the service at
``MEDPAY_SETTLEMENT_ADDRESS`` and prints the statements.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from libs.common.dates import Period
from libs.common.errors import MedpayError
from libs.common.grpc.client import open_service_channel
from libs.common.money import Money
from libs.common.paging import every_page
from libs.common.runtime import Runtime

from .adapters.files import read_policy
from .domain.errors import ParameterError

console = Console(stderr=True, soft_wrap=True)  # messages stay one line when piped
POLL_SECONDS = 0.5


async def compute_weights_on_service(args: argparse.Namespace, runtime: Runtime) -> int:
    return await _guarded(_weights(args, runtime), "weights")


async def settle_on_service(args: argparse.Namespace, runtime: Runtime) -> int:
    return await _guarded(_settle(args, runtime), "run")


async def _guarded(work: Any, command: str) -> int:
    try:
        result: int = await work
    except grpc.aio.AioRpcError as failed:
        console.print(f"medpay settlement {command}: {failed.code().name}: {failed.details()}")
        return 2
    except OSError as failed:
        console.print(f"medpay settlement {command}: {failed.filename or ''}: {failed.strerror}")
        return 2
    except InstitutionsError as failed:
        console.print(f"medpay settlement {command}: {failed}")
        return 2
    except PolicyFileError as failed:
        console.print(f"medpay settlement {command}: {failed}")
        return 2
    return result


class PolicyFileError(ValueError):
    """The policy file is not FORMAT's params.json: the message names the file and the line or parameter."""


def policy_text(path: Path) -> str:
    """The policy file's text, checked here first (as ``simulate`` checks it), so that a bad file is named with
    its line or parameter before anything is sent; the service checks it again."""
    try:
        read_policy(path)
    except ParameterError as bad:
        raise PolicyFileError(f"{path}: {bad.message}") from None
    except MedpayError as bad:  # not UTF-8 or not JSON: the message holds the file and line
        raise PolicyFileError(bad.message) from None
    return path.read_text(encoding="utf-8")


class InstitutionsError(ValueError):
    """A line of the institutions file that is not an institution with a level; names the file and line."""


def read_levels(path: Path | None) -> dict[str, int]:
    """Hospital levels from JSON lines with ``fixmedins_code`` and ``hosp_lv`` (synth's institutions.jsonl)."""
    if path is None:
        return {}
    levels = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                code, level = row["fixmedins_code"], int(row["hosp_lv"])
            except (ValueError, KeyError, TypeError) as bad:
                raise InstitutionsError(f"{path}:{number}: not an institution with fixmedins_code and hosp_lv "
                                        f"({type(bad).__name__}: {bad})") from None
            levels[str(code)] = level
    return levels


async def store_policy(stub: pb_grpc.SettlementServiceAsyncStub, region: str, year: int, text: str, *,
                       dip: bool, label: str, levels: dict[str, int]) -> pb.Policy:
    """The file's version of the region's policy for the year (created once: the request id is its content's)."""
    key = hashlib.sha256(f"{region}/{year}/{int(dip)}/{text}/{sorted(levels.items())}".encode()).digest()[:16]
    created: pb.Policy = await stub.CreatePolicy(pb.CreatePolicyRequest(
        parent=f"regions/{region}", request_id=str(uuid.UUID(bytes=key, version=4)),
        policy=pb.Policy(year=year, parameters_json=text, description=f"from {label}", hospital_levels=levels,
                         group_scheme=pb.GROUP_SCHEME_DIP if dip else pb.GROUP_SCHEME_DRG)))
    return created


async def _weights(args: argparse.Namespace, runtime: Runtime) -> int:
    async with _channel(runtime) as channel:
        stub = pb_grpc.SettlementServiceStub(channel)
        policy = await store_policy(stub, args.region, args.year, policy_text(args.policy), dip=args.dip,
                                    label=args.policy.name, levels=read_levels(args.institutions))
        operation = await stub.ComputeWeights(pb.ComputeWeightsRequest(
            parent=f"regions/{args.region}", weight_table=pb.WeightTable(year=args.year, policy=policy.name)))
        done = await follow(operations_pb2_grpc.OperationsStub(channel), operation, pb.WeightTable(), "weights")
    if done.HasField("error"):
        console.print(f"medpay settlement weights: {done.error.message}")
        return 2
    table = pb.WeightTable()
    done.response.Unpack(table)
    print(f"{table.name}: {table.groups} groups from {table.base_cases:,} base-year cases, avg_all {table.avg_all}")
    return 0


async def _settle(args: argparse.Namespace, runtime: Runtime) -> int:
    period = Period(args.year, args.month)
    async with _channel(runtime) as channel:
        stub = pb_grpc.SettlementServiceStub(channel)
        policy = await store_policy(stub, args.region, args.year, policy_text(args.policy), dip=args.dip,
                                    label=args.policy.name, levels=read_levels(args.institutions))
        operation = await stub.StartSettlementRun(pb.StartSettlementRunRequest(
            parent=f"regions/{args.region}", settlement_run=pb.SettlementRun(
                settlement_period=period.to_proto(), policy=policy.name, weight_table=args.weight_table,
                case_feed_sequence=args.sequence)))
        done = await follow(operations_pb2_grpc.OperationsStub(channel), operation, pb.SettlementRun(),
                            f"settling {period}")
        if done.HasField("error"):
            console.print(f"medpay settlement run: {done.error.message}")
            return 2
        run = pb.SettlementRun()
        done.response.Unpack(run)
        statements = [s async for s in _statements(stub, run.name)]
    print_run(run, statements)
    return 0


class _channel:
    def __init__(self, runtime: Runtime) -> None:
        self._channel = open_service_channel(runtime.settings, "settlement")

    async def __aenter__(self) -> grpc.aio.Channel:
        return self._channel

    async def __aexit__(self, *exc: object) -> None:
        await self._channel.close(None)


async def follow(operations: operations_pb2_grpc.OperationsAsyncStub, operation: operations_pb2.Operation,
                 metadata: Any, label: str) -> operations_pb2.Operation:
    """Poll the operation to its end, drawing its progress (``metadata`` is the message its metadata holds)."""
    columns = (TextColumn(label), BarColumn(), TextColumn("{task.completed:,.0f} {task.fields[unit]}"),
               TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None, unit="")
        while not operation.done:
            await asyncio.sleep(POLL_SECONDS)
            operation = await operations.GetOperation(operations_pb2.GetOperationRequest(name=operation.name))
            if operation.metadata.Unpack(metadata):
                p = metadata.progress
                bar.update(task, completed=p.done, total=p.total or None, unit=p.unit, description=p.message)
    return operation


async def _statements(stub: pb_grpc.SettlementServiceAsyncStub, run: str) -> Any:
    async for statement in every_page(stub.ListHospitalStatements, pb.ListHospitalStatementsRequest(
            parent=run, page_size=1000), "hospital_statements"):
        yield statement


def _paid_by(run: pb.SettlementRun) -> str:
    """What the run paid by: the point value (point method) or each level's rate (rate method)."""
    if run.level_rates:
        return "rates " + ", ".join(f"level {level} {Money.from_proto(rate)}"
                                    for level, rate in sorted(run.level_rates.items()))
    return f"point value {run.point_value or '-'}"


def print_run(run: pb.SettlementRun, statements: list[pb.HospitalStatement]) -> None:
    kind = "advance" if run.run_type == pb.SETTLEMENT_RUN_TYPE_ADVANCE else "clearing"
    # Piped or redirected, the table takes the width it needs (rich would squeeze it into 80 columns and cut
    # codes and amounts short with an ellipsis); on a narrow terminal a cell folds rather than loses digits.
    out = Console() if sys.stdout.isatty() else Console(width=1_000)
    print(f"{run.name} ({kind}): {run.cases:,} cases, {_paid_by(run)}")  # one line, however wide the table
    table = Table()
    for column in ("hospital", "cases", "points", "CMI", "gross", "advances", "adjustments", "deductions",
                   "balance"):
        table.add_column(column, justify="left" if column == "hospital" else "right", overflow="fold")
    for s in statements:
        table.add_row(s.fixmedins_code, f"{s.cases:,}", s.points or "-", s.cmi, str(Money.from_proto(s.gross)),
                      str(Money.from_proto(s.advances)), str(Money.from_proto(s.adjustments)),
                      str(Money.from_proto(s.deductions)), str(Money.from_proto(s.balance)))
    out.print(table)
    if run.HasField("total_review_deductions"):  # the clearing read smart review's confirmed deductions
        print(f"of the deductions, {Money.from_proto(run.total_review_deductions)} confirmed by smart review "
              f"({sum(1 for s in statements if s.review_deductions.fen)} hospital(s))", file=sys.stdout)
    print(f"total balance {Money.from_proto(run.total_balance)}; statements digest {run.statements_digest}",
          file=sys.stdout)
