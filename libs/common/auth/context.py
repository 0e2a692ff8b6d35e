"""The caller of the RPC being served, and the tenant checks servicers make with it.

The server's interceptor sets ``principal_var`` once the token is verified (``None`` in dev mode, where nothing
is checked). Servicers never read metadata themselves; they ask:

    institution = scope_institution(request.fixmedins_code)   # a hospital: its own code, whatever was asked
    region = scope_region(request.region)                      # a prefecture: its own division
    check_list_access(stored.fixmedins_code, stored.region)    # a stored row: the caller's, or PERMISSION_DENIED
"""

from __future__ import annotations

import contextvars
import re
from typing import Any

from ..errors import PermissionDenied
from .roles import Principal, Role

principal_var: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current_principal() -> Principal | None:
    """The verified caller, or ``None`` (dev mode, or work outside an RPC: migrations, imports, jobs)."""
    return principal_var.get()


def actor() -> str:
    """Who acts, for the audit log: "role:subject", or "dev" when nobody is authenticated."""
    principal = principal_var.get()
    return str(principal) if principal is not None else "dev"


def _denied(what: str, principal: Principal) -> PermissionDenied:
    return PermissionDenied(f"{principal} may not access {what}", reason="TENANT_MISMATCH",
                            metadata={"role": principal.role.value})


def region_covers(region: str, division: str) -> bool:
    """Whether a list's region (a division code) lies in a prefecture's division: the same code, or a county
    of it (the first four digits name the prefecture: 330781 lies in 330700)."""
    return region == division or (division.endswith("00") and region[:4] == division[:4] and len(region) == 6)


def institution_region(fixmedins_code: str) -> str:
    """The division an institution lies in: its code is H + the 6-digit division code + a serial."""
    return fixmedins_code[1:7]


def scope_institution(requested: str) -> str:
    """The institution a read or write is limited to: a hospital gets its own code (asking for another is
    PERMISSION_DENIED); a prefecture may name institutions of its region only; everyone else what they asked for
    ("" for all)."""
    principal = principal_var.get()
    if principal is None or principal.role in (Role.PROVINCE, Role.SERVICE):
        return requested
    if principal.role is Role.PREFECTURE:
        if requested and not region_covers(institution_region(requested), principal.subject):
            raise _denied(f"institution {requested}", principal)
        return requested
    if requested and requested != principal.subject:
        raise _denied(f"institution {requested}", principal)
    return principal.subject


def scope_region(requested: str) -> str:
    """The region a read is limited to: a prefecture gets its own division (another is PERMISSION_DENIED);
    everyone else what they asked for."""
    principal = principal_var.get()
    if principal is None or principal.role is not Role.PREFECTURE:
        return requested
    if requested and not region_covers(requested, principal.subject):
        raise _denied(f"region {requested}", principal)
    return requested or principal.subject


def may_access(fixmedins_code: str, region: str) -> bool:
    principal = principal_var.get()
    if principal is None or principal.role in (Role.PROVINCE, Role.SERVICE):
        return True
    if principal.role is Role.HOSPITAL:
        return fixmedins_code == principal.subject
    return region_covers(region, principal.subject)


def check_access(fixmedins_code: str, region: str, what: str = "this resource") -> None:
    """PERMISSION_DENIED unless the caller may see a row of ``fixmedins_code`` in ``region``."""
    principal = principal_var.get()
    if principal is not None and not may_access(fixmedins_code, region):
        raise _denied(what, principal)


def tenant_key(key: str | None) -> str | None:
    """An idempotency key scoped by the calling institution, so one hospital's request_id never meets another's.
    Unchanged in dev mode and for the bureaus' and services' own calls."""
    principal = principal_var.get()
    if key is None or principal is None or principal.role is not Role.HOSPITAL:
        return key
    return f"{principal.subject}:{key}"


_REGION_NAME = re.compile(r"regions/([0-9]{6})(?:/|$)")


def check_request_scope(request: Any) -> None:
    """The server's check of every unary request before its servicer runs: a resource name or parent under
    ``regions/{region}/`` must lie in a prefecture caller's region (a hospital's: the region holding it), and a
    ``fixmedins_code`` field must be a hospital caller's own (a prefecture's: of its region). Servicers still
    scope what they read (``scope_institution``, ``check_access``); this catches what a new RPC forgets."""
    principal = principal_var.get()
    if principal is None or principal.role in (Role.PROVINCE, Role.SERVICE):
        return
    for field in ("parent", "name"):
        value = getattr(request, field, None)
        matched = _REGION_NAME.match(value) if isinstance(value, str) else None
        if matched is None:
            continue
        region = matched[1]
        if principal.role is Role.PREFECTURE:
            scope_region(region)
        elif not region_covers(institution_region(principal.subject), region):
            raise _denied(f"region {region}", principal)
    code = getattr(request, "fixmedins_code", None)
    if isinstance(code, str) and code:
        scope_institution(code)
