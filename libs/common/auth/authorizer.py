"""The check every guarded RPC passes with ``MEDPAY_AUTH_DIR`` set: a valid token whose role the method's
access table allows; a ``service`` token only from a peer holding that service's certificate (mutual TLS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import PermissionDenied, Unauthenticated
from .roles import AccessTable, Principal, Role
from .tokens import TokenError, TokenVerifier

BEARER = "bearer "


class TokenAuthorizer:
    """Called with (method, metadata, peer certificate common names) before every guarded RPC."""

    def __init__(self, verifier: TokenVerifier, table: AccessTable) -> None:
        self._verifier = verifier
        self._table = table

    def __call__(self, method: str, metadata: Mapping[str, str], peer_names: Sequence[str]) -> Principal:
        header = metadata.get("authorization", "")
        if not header[:len(BEARER)].lower() == BEARER:
            raise Unauthenticated("this method needs authorization: Bearer <token> metadata",
                                  reason="UNAUTHENTICATED")
        try:
            principal = self._verifier.verify(header[len(BEARER):].strip())
        except TokenError as bad:
            raise Unauthenticated(str(bad), reason="UNAUTHENTICATED") from None
        roles = self._table.get(method)
        if roles is None:
            raise PermissionDenied(f"{method} declares no roles that may call it", reason="METHOD_NOT_DECLARED",
                                   metadata={"method": method})
        if principal.role not in roles:
            raise PermissionDenied(f"role {principal.role.value} may not call {method}", reason="ROLE_NOT_ALLOWED",
                                   metadata={"method": method, "role": principal.role.value})
        if principal.role is Role.SERVICE and principal.subject not in peer_names:
            raise PermissionDenied("a service token is accepted only from that service's certificate",
                                   reason="SERVICE_CERTIFICATE_REQUIRED", metadata={"method": method})
        return principal
