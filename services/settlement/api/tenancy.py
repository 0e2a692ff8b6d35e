"""Whom a ledger or special-case call acts for, with the settlement service's ``TenantOf`` (api/servicer.py): the
institution code of a hospital's caller, ``None`` for the bureaus (and every caller until authentication
establishes roles)."""

from __future__ import annotations

from libs.common.auth.context import actor
from libs.common.errors import PermissionDenied

from .servicer import TenantOf, bureau

__all__ = ["TenantOf", "acting", "bureau", "bureau_only", "own_institution"]


def own_institution(tenant: str | None, requested: str) -> str:
    """The institution a read is limited to: a hospital its own (asking for another's is TENANT_MISMATCH), a
    bureau what it asked for ("" for all)."""
    if tenant is None:
        return requested
    if requested and requested != tenant:
        raise PermissionDenied(f"{tenant} may not read the figures of {requested}", reason="TENANT_MISMATCH")
    return tenant


def bureau_only(tenant: str | None, action: str) -> None:
    """Decisions are the bureaus': a hospital's caller is ROLE_NOT_ALLOWED."""
    if tenant is not None:
        raise PermissionDenied(f"a hospital may not {action}", reason="ROLE_NOT_ALLOWED")


def acting(tenant: str | None) -> str:
    """Who acts, as decisions and reversals record it: ``hospital:H...``, else the verified caller
    (``prefecture:330700``; ``dev`` without authentication)."""
    return f"hospital:{tenant}" if tenant is not None else actor()
