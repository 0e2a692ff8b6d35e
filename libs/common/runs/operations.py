"""Runs as google.longrunning operations (AIP-151), and the Operations service every run-owning service mounts.

    spec = ServiceSpec("settlement", register=lambda server: (add_to_server(servicer, server),
                                                              add_operations(server, runs)),
                       service_names=[SERVICE_NAME, OPERATIONS_SERVICE], on_start=runs.open, on_stop=runs.close)

``add_operations(server, runs_a, runs_b)`` serves the runs of several schemas through one Operations service (the
evaluation process: evaluation and review). Methods: GetOperation, ListOperations (newest first; filter
``kind = "x"``, ``state = RUNNING``, ``run_key = "x"``, ``done = true|false`` joined with AND), WaitOperation
(up to its timeout, at most 60 s, within the call's deadline), CancelOperation (best effort, at the job's next
checkpoint). DeleteOperation is UNIMPLEMENTED: runs are records and are kept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import any_pb2, empty_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2, error_details_pb2, status_pb2
from medpay.common.v1 import common_pb2

from ..auth.context import current_principal, region_covers
from ..auth.roles import Role
from ..errors import InvalidArgument, MedpayError, NotFound
from ..paging import decode_token, encode_token, page_size
from .model import OPERATION_PREFIX, Run, RunState, canonical_json

if TYPE_CHECKING:
    from .executor import JobKind, Runs

OPERATIONS_SERVICE = "google.longrunning.Operations"
WAIT_LIMIT_SECONDS = 60.0
_ID = re.compile(r"[0-9a-f]{32}")
_CLAUSE = re.compile(r'\s*(kind|state|run_key|done)\s*=\s*("(?:[^"\\]|\\.)*"|[A-Za-z_]+)\s*')


def run_to_proto(run: Run) -> common_pb2.Run:
    """The run as ``medpay.common.v1.Run`` (the default metadata and response of its operation)."""
    message = common_pb2.Run(
        name=run.name, kind=run.kind, run_key=run.run_key, state=common_pb2.RunState.Value(f"RUN_STATE_{run.state}"),
        parameters_json=canonical_json(dict(run.parameters)), input_digest=run.input_digest,
        versions=dict(run.versions), attempts=run.attempts, cancel_requested=run.cancel_requested,
        progress=common_pb2.RunProgress(done=run.progress.done, total=run.progress.total, unit=run.progress.unit,
                                        message=run.progress.message),
        result_json=canonical_json(run.result) if run.result is not None and run.done else "")
    for field, value in (("create_time", run.created_at), ("start_time", run.started_at),
                         ("update_time", run.updated_at), ("end_time", run.finished_at)):
        if value is not None:
            getattr(message, field).CopyFrom(_timestamp(value))
    if run.error is not None:
        message.error.CopyFrom(_status(run, ""))
    return message


def to_operation(run: Run, kind: JobKind | None, domain: str) -> operations_pb2.Operation:
    operation = operations_pb2.Operation(name=run.name, done=run.done)
    metadata = kind.metadata(run) if kind is not None and kind.metadata is not None else run_to_proto(run)
    operation.metadata.Pack(metadata)
    if run.state is RunState.SUCCEEDED:
        response = kind.response(run) if kind is not None and kind.response is not None else run_to_proto(run)
        operation.response.Pack(response)
    elif run.done:
        operation.error.CopyFrom(_status(run, domain))
    return operation


def _status(run: Run, domain: str) -> status_pb2.Status:
    error = run.error
    code_name, reason, message = (error.code, error.reason, error.message) if error else ("UNKNOWN", "", "")
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata={"run": run.name}))
    code = code_pb2.Code.Value(code_name) if code_name in code_pb2.Code.keys() else code_pb2.UNKNOWN  # noqa: SIM118
    return status_pb2.Status(code=code, message=message, details=[info])


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def run_id_of(name: str, field: str = "name") -> str:
    """The run id of an operation name ``operations/{id}``; INVALID_ARGUMENT otherwise."""
    run_id = name.removeprefix(OPERATION_PREFIX)
    if not name.startswith(OPERATION_PREFIX) or not _ID.fullmatch(run_id):
        raise InvalidArgument.field(field, f"{name!r} is not an operation name (operations/<32 hex digits>)")
    return run_id


def parse_filter(text: str) -> dict[str, Any]:
    """The ListOperations filter: ``kind = "x" AND state = RUNNING AND run_key = "y" AND done = false``."""
    found: dict[str, Any] = {}
    if not text.strip():
        return found
    for clause in re.split(r"\bAND\b", text):
        matched = _CLAUSE.fullmatch(clause)
        if matched is None:
            raise InvalidArgument.field("filter", f"cannot read {clause.strip()!r}: use kind = \"...\", "
                                                  "state = RUNNING, run_key = \"...\" or done = true|false, "
                                                  "joined by AND", "INVALID_FILTER")
        key, raw = matched.groups()
        value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        if key == "state":
            state = value.removeprefix("RUN_STATE_")
            if state not in RunState.__members__:
                raise InvalidArgument.field("filter", f"unknown state {value!r}", "INVALID_FILTER")
            found[key] = RunState(state)
        elif key == "done":
            if value not in ("true", "false"):
                raise InvalidArgument.field("filter", "done is true or false", "INVALID_FILTER")
            found[key] = value == "true"
        else:
            found[key] = value
    return found


def visible(run: Run) -> bool:
    """Whether the caller may see a run: a prefecture the runs of its region only (a run names its region in its
    parameters; another region's is NOT_FOUND to it, as its resources are), every other caller every run (hospitals
    are not let in: OPERATIONS_ACCESS)."""
    principal = current_principal()
    region = run.parameters.get("region")
    if principal is None or principal.role is not Role.PREFECTURE or not isinstance(region, str):
        return True
    return region_covers(region, principal.subject)


class OperationsServicer(operations_pb2_grpc.OperationsServicer):
    """google.longrunning.Operations over the runs of one or more schemas (ids are unique across them)."""

    def __init__(self, *runs: Runs) -> None:
        if not runs:
            raise ValueError("an Operations service needs the runs it serves")
        self._runs = runs

    async def _find(self, name: str) -> tuple[Runs, Run]:
        run_id = run_id_of(name)
        for runs in self._runs:
            run = await runs.store.get(run_id)
            if run is not None and visible(run):
                return runs, run
        raise NotFound(f"no operation {name}", reason="OPERATION_NOT_FOUND", metadata={"name": name})

    async def GetOperation(self, request: operations_pb2.GetOperationRequest,
                           context: Any) -> operations_pb2.Operation:
        runs, run = await self._find(request.name)
        return runs.operation(run)

    async def ListOperations(self, request: operations_pb2.ListOperationsRequest,
                             context: Any) -> operations_pb2.ListOperationsResponse:
        if request.name not in ("", "operations"):
            raise InvalidArgument.field("name", "the collection is \"operations\"")
        size = page_size(request.page_size, 50, 500)
        wanted = parse_filter(request.filter)
        cursor = decode_token(request.page_token)
        after = None
        if cursor:
            stamp, _, run_id = cursor.partition("|")
            try:
                after = (datetime.fromisoformat(stamp), run_id)
            except ValueError:
                raise InvalidArgument.field("page_token", "not a token returned by this service",
                                            "INVALID_PAGE_TOKEN") from None
        found: list[tuple[Runs, Run]] = []
        for runs in self._runs:
            found += [(runs, r) for r in await runs.store.list_runs(limit=size + 1, after=after, **wanted)]
        found.sort(key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)
        page = found[:size]
        token = ""
        if len(found) > size:
            last = page[-1][1]
            token = encode_token(f"{last.created_at.isoformat()}|{last.id}")
        return operations_pb2.ListOperationsResponse(operations=[runs.operation(run) for runs, run in page
                                                                 if visible(run)],  # a page may come out short
                                                     next_page_token=token)

    async def WaitOperation(self, request: operations_pb2.WaitOperationRequest,
                            context: Any) -> operations_pb2.Operation:
        runs, run = await self._find(request.name)
        limit = WAIT_LIMIT_SECONDS
        if request.HasField("timeout"):
            limit = min(limit, request.timeout.ToTimedelta().total_seconds())
        remaining = context.time_remaining() if context is not None else None
        if remaining is not None:
            limit = min(limit, max(0.0, remaining - 0.5))  # answer before the caller's deadline
        return runs.operation(await runs.wait(run.id, limit))

    async def CancelOperation(self, request: operations_pb2.CancelOperationRequest,
                              context: Any) -> empty_pb2.Empty:
        runs, run = await self._find(request.name)
        await runs.cancel(run.id)
        return empty_pb2.Empty()

    async def DeleteOperation(self, request: operations_pb2.DeleteOperationRequest,
                              context: Any) -> empty_pb2.Empty:
        raise Unimplemented("runs are kept as records; operations cannot be deleted",
                            reason="OPERATION_DELETE_UNSUPPORTED")


class Unimplemented(MedpayError):
    code = "UNIMPLEMENTED"


def add_operations(server: grpc.aio.Server, *runs: Runs) -> None:
    """Mount google.longrunning.Operations for ``runs`` on ``server`` (list OPERATIONS_SERVICE among the
    spec's service names for health and reflection)."""
    operations_pb2_grpc.add_OperationsServicer_to_server(OperationsServicer(*runs), server)
