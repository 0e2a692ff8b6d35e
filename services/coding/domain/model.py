"""Values of the coding domain."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


class ValidationStatus(enum.Enum):
    VALID = "VALID"
    UNKNOWN = "UNKNOWN"
    MALFORMED = "MALFORMED"
    RETIRED = "RETIRED"


@dataclass(frozen=True, slots=True)
class CodeRef:
    """A code to validate; an empty system means "infer it from the code's shape"."""

    system_id: str
    code: str


@dataclass(frozen=True, slots=True)
class Validation:
    code: str
    system_id: str
    status: ValidationStatus
    reason: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class CodeRow:
    """A code as loaded into a version: ``attributes`` are free-form strings (dosage form, parent division...)."""

    code: str
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    retired: bool = False


@dataclass(frozen=True, slots=True)
class Dataset:
    """One version of one code system, as read from a source file, ready to load."""

    system_id: str
    version: str
    effective_start: date
    source: str
    rows: tuple[CodeRow, ...]
    digest: str


@dataclass(frozen=True, slots=True)
class VersionInfo:
    system_id: str
    version: str
    effective_start: date
    effective_end: date | None
    source: str
    code_count: int
    active: bool


@dataclass(frozen=True, slots=True)
class VersionIndex:
    """The codes of an active version in memory: code -> retired?, and for maps code -> target."""

    version: str
    retired: Mapping[str, bool]
    targets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActiveIndex:
    """Everything validation reads, keyed by system id; replaced whole when a version changes."""

    versions: Mapping[str, VersionIndex]
    divisions: frozenset[str]
    fingerprint: str = ""
