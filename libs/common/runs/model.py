"""Runs as values: what a long-running job is, independent of how it is stored or served (no I/O here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..errors import MedpayError


class RunState(StrEnum):
    """Stored as text; the wire's ``medpay.common.v1.RunState`` is ``RUN_STATE_<name>``."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def done(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


@dataclass(frozen=True)
class Progress:
    done: int = 0
    total: int = 0
    unit: str = ""
    message: str = ""


@dataclass(frozen=True)
class RunError:
    """Why a run failed: a gRPC code name, an ErrorInfo reason, words for the operator."""

    code: str
    reason: str
    message: str


@dataclass(frozen=True)
class StartRun:
    """What starting a run says. ``run_key`` makes the start idempotent within ``kind``: starting the same key
    again returns the same run and never executes it twice; the same key with other parameters, input digest or
    versions is refused (ALREADY_EXISTS, ``RUN_KEY_REUSED``)."""

    kind: str
    run_key: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    input_digest: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    total: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.kind or not self.run_key:
            raise ValueError("a run needs a kind and a run key")


@dataclass(frozen=True)
class Run:
    """One stored run. ``attempts`` counts the executions begun (a crash or restart resumes with one more;
    ``attempts_before_resume`` is where it stood when an operator last resumed the failed run);
    ``checkpoint`` is whatever the job saved last (JSON), from which a resumed execution continues."""

    id: str
    kind: str
    run_key: str
    parameters: Mapping[str, Any]
    input_digest: str
    versions: Mapping[str, str]
    state: RunState
    progress: Progress
    checkpoint: Any
    result: Any
    error: RunError | None
    attempts: int
    attempts_before_resume: int
    cancel_requested: bool
    owner: str | None
    lease_until: datetime | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None

    @property
    def name(self) -> str:
        """The run's operation name (AIP-151): ``operations/{id}``."""
        return f"{OPERATION_PREFIX}{self.id}"

    @property
    def done(self) -> bool:
        return self.state.done


OPERATION_PREFIX = "operations/"


class RunCancelled(Exception):
    """Raised inside a job at its next report or checkpoint once a cancellation was asked for."""


class RunLost(Exception):
    """This executor no longer owns the run (its lease ran out and another took over): stop writing."""


class RunKeyReused(MedpayError):
    code = "ALREADY_EXISTS"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces; ``Decimal`` as its exact string, dates in ISO form (never float
    rounding): the form parameters are stored, compared and digested in."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON: give run parameters as plain values")


def digest(*parts: bytes | str | Mapping[str, Any] | list[Any]) -> str:
    """sha256 (hex) over ``parts`` in order: bytes as they are, text as UTF-8, structures as canonical JSON.
    For a run's input digest: ``digest(file_bytes)``, ``digest({"region": r, "sequence": s}, weights_csv)``."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else (part if isinstance(part, str) else canonical_json(part)).encode()
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()
