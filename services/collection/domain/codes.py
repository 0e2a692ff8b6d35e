"""Which fields of a settlement list (4101A) carry codes of which code system.

Used by quality control to validate every code of a list in one batch, and by the demo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SETLINFO_CODES = (("chfpdr_code", "doctor"),)
_LIST_CODES = (
    ("diseinfo", "diag_code", "icd10-chs"),
    ("oprninfo", "oprn_oprt_code", "icd9cm3-chs"),
    ("oprninfo", "oper_dr_code", "doctor"),
    ("oprninfo", "anst_dr_code", "doctor"),
    ("opspdiseinfo", "diag_code", "opsp-disease"),
)


@dataclass(frozen=True, slots=True)
class CodedField:
    """A code found in a list: where it is (``diseinfo[1].diag_code``), its code system, and the code."""

    path: str
    system_id: str
    code: str


def coded_fields(request: Mapping[str, Any]) -> list[CodedField]:
    """Every non-empty code of an upload request (envelope and ``input``), in document order."""
    return list_codes(request.get("fixmedins_code"), request.get("input") or {})


def list_codes(fixmedins_code: Any, body: Mapping[str, Any]) -> list[CodedField]:
    """``coded_fields`` of a request with this institution and ``input`` (parsing asks it of every list: no
    request object is built for it)."""
    found = []
    if fixmedins_code:
        found.append(_coded("fixmedins_code", "institution", str(fixmedins_code)))
    setlinfo = body.get("setlinfo") or {}
    for name, system_id in _SETLINFO_CODES:
        if setlinfo.get(name):
            found.append(_coded(f"setlinfo.{name}", system_id, str(setlinfo[name])))
    for node, name, system_id, paths in _LIST_CODES_PATHS:
        for i, item in enumerate(body.get(node) or ()):
            if (type(item) is dict or isinstance(item, Mapping)) and item.get(name):
                path = paths[i] if i < _SPELLED else f"{node}[{i}].{name}"
                found.append(_coded(path, system_id, str(item[name])))
    return found


_SPELLED = 100
"""Entries whose code paths are spelled once (a list holds at most 100 of a node: ``fields.MAX_ENTRIES``)."""
_LIST_CODES_PATHS = tuple((node, name, system_id, tuple(f"{node}[{i}].{name}" for i in range(_SPELLED)))
                          for node, name, system_id in _LIST_CODES)


def _coded(path: str, system_id: str, code: str) -> CodedField:
    """The one ``CodedField`` of these values: lists repeat their codes (a region's diagnoses, its hospitals and
    doctors, at the same places), and building a frozen dataclass costs more than finding it again."""
    key = (path, system_id, code)
    found = _known.get(key)
    if found is None:
        found = CodedField(path, system_id, code)
        if len(_known) < _MOST_KNOWN:  # a file of odd codes does not grow this
            _known[key] = found
    return found


_MOST_KNOWN = 100_000
_known: dict[tuple[str, str, str], CodedField] = {}
