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
        found.append(CodedField("fixmedins_code", "institution", str(fixmedins_code)))
    setlinfo = body.get("setlinfo") or {}
    for name, system_id in _SETLINFO_CODES:
        if setlinfo.get(name):
            found.append(CodedField(f"setlinfo.{name}", system_id, str(setlinfo[name])))
    for node, name, system_id in _LIST_CODES:
        for i, item in enumerate(body.get(node) or ()):
            if (type(item) is dict or isinstance(item, Mapping)) and item.get(name):
                found.append(CodedField(f"{node}[{i}].{name}", system_id, str(item[name])))
    return found
