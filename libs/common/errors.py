"""One exception tree for every service; each class declares its gRPC status, converted in one place.

Domain code raises these (they carry no grpc import); the error interceptor turns them into a
``google.rpc.Status`` with an ``ErrorInfo`` (reason, domain, metadata) and, for bad fields, a ``BadRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class MedpayError(Exception):
    """Base of all errors a client may see. ``code`` names a grpc.StatusCode member."""

    code = "INTERNAL"

    def __init__(self, message: str, *, reason: str, metadata: dict[str, str] | None = None,
                 violations: tuple[FieldViolation, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.violations = violations

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its keyword arguments: an error raised in a worker process (a bulk import's) reaches
        the process that started it as itself."""
        return _rebuilt, (type(self), self.message, self.reason, self.metadata, self.violations)


def _rebuilt(kind: type[MedpayError], message: str, reason: str, metadata: dict[str, str],
             violations: tuple[FieldViolation, ...]) -> MedpayError:
    return kind(message, reason=reason, metadata=metadata, violations=violations)


class InvalidArgument(MedpayError):
    code = "INVALID_ARGUMENT"

    @classmethod
    def field(cls, name: str, description: str, reason: str = "INVALID_FIELD") -> InvalidArgument:
        return cls(f"{name}: {description}", reason=reason, metadata={"field": name},
                   violations=(FieldViolation(name, description),))


class NotFound(MedpayError):
    code = "NOT_FOUND"


class AlreadyExists(MedpayError):
    code = "ALREADY_EXISTS"


class FailedPrecondition(MedpayError):
    code = "FAILED_PRECONDITION"


class Unauthenticated(MedpayError):
    code = "UNAUTHENTICATED"


class PermissionDenied(MedpayError):
    code = "PERMISSION_DENIED"


class Unavailable(MedpayError):
    code = "UNAVAILABLE"


class Aborted(MedpayError):
    """A conflict with a concurrent call that a retry resolves (``REQUEST_IN_FLIGHT``: the same request_id is
    being processed, or its first use failed midway)."""

    code = "ABORTED"


def check_batch_size(name: str, size: int, limit: int) -> None:
    """Reject a batch over its documented limit, naming the limit."""
    if size > limit:
        raise InvalidArgument(f"{name}: {size} items exceed the limit of {limit:,} per call",
                              reason="BATCH_TOO_LARGE", metadata={"field": name, "limit": str(limit)},
                              violations=(FieldViolation(name, f"at most {limit} items"),))
