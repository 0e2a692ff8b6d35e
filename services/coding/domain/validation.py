"""Validate codes against the active versions: VALID, UNKNOWN, MALFORMED or RETIRED, each with a reason."""

from __future__ import annotations

from collections.abc import Iterable

from .model import ActiveIndex, CodeRef, Validation, ValidationStatus
from .shapes import infer_system, shape_problem
from .systems import BY_ID, MAP_OF

MAX_BATCH = 10_000


def validate(refs: Iterable[CodeRef], index: ActiveIndex) -> list[Validation]:
    return [validate_one(ref, index) for ref in refs]


def validate_one(ref: CodeRef, index: ActiveIndex) -> Validation:
    code = ref.code.strip()
    system_id = ref.system_id or infer_system(code) or ""
    if not system_id:
        return Validation(ref.code, "", ValidationStatus.MALFORMED,
                          f"{code!r} has the shape of no code family (name the code system to learn why)")
    if system_id not in BY_ID:
        return Validation(ref.code, system_id, ValidationStatus.MALFORMED, f"unknown code system {system_id!r}")
    problem = shape_problem(system_id, code, index.divisions)
    if problem:
        return Validation(ref.code, system_id, ValidationStatus.MALFORMED, problem)
    version = index.versions.get(system_id)
    if version is None:
        return Validation(ref.code, system_id, ValidationStatus.UNKNOWN,
                          f"well-formed, but no version of {system_id} is loaded to check it against")
    retired = version.retired.get(code)
    if retired is None:
        return Validation(ref.code, system_id, ValidationStatus.UNKNOWN,
                          _unknown_reason(system_id, code, index), version.version)
    if retired:
        return Validation(ref.code, system_id, ValidationStatus.RETIRED,
                          f"retired in {system_id} {version.version}", version.version)
    return Validation(ref.code, system_id, ValidationStatus.VALID, f"in {system_id} {version.version}",
                      version.version)


def _unknown_reason(system_id: str, code: str, index: ActiveIndex) -> str:
    reason = f"well-formed, but not a code of {system_id} {index.versions[system_id].version}"
    map_index = index.versions.get(MAP_OF.get(system_id, ""))
    if map_index is not None and code in map_index.targets:
        reason += f"; another version's code, maps to {map_index.targets[code]}"
    return reason


def map_codes(system_id: str, codes: Iterable[str], index: ActiveIndex) -> list[tuple[str, str]]:
    """(source, target) per code; target "" when unmapped. Codes already of 医保版 2.0 map to themselves."""
    table = index.versions.get(MAP_OF[system_id])
    own = index.versions.get(system_id)
    out = []
    for code in codes:
        target = table.targets.get(code, "") if table else ""
        if not target and own is not None and code in own.retired:
            target = code
        out.append((code, target))
    return out
