"""Who may call what: the four roles, the principal a verified token names, and the access table a service
declares beside its declaration (one entry per RPC method).

Cheap to import (no grpc, no cryptography): ``services/<svc>/declaration.py`` builds its table from these names.

    ACCESS = access_table("medpay.collection.v1.CollectionService", {
        "UploadSettlementList": (HOSPITAL, SERVICE),
        "ListSettlementLists": (HOSPITAL, PREFECTURE, PROVINCE, SERVICE),
    })

A method missing from every table is refused (PERMISSION_DENIED, reason METHOD_NOT_DECLARED) even to a valid
token, so a new RPC is closed until its author says who may call it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class AuthConfigError(ValueError):
    """Auth material or settings that cannot be used as asked; ``medpay`` prints the message and exits 2."""


class Role(StrEnum):
    """The ``role`` claim of a token; its ``sub`` claim is read according to the role."""

    HOSPITAL = "hospital"
    """A designated medical institution; subject: its institution code (H + 11 digits, e.g. H33070300089)."""
    PREFECTURE = "prefecture"
    """A prefecture's medical-insurance bureau; subject: its division code (6 digits, e.g. 330700)."""
    PROVINCE = "province"
    """The provincial bureau running the platform; subject: a free operator name; sees every region."""
    SERVICE = "service"
    """Another medpay service; subject: its service name. Accepted only over mutual TLS with a service
    certificate of the same name."""


HOSPITAL, PREFECTURE, PROVINCE, SERVICE = Role.HOSPITAL, Role.PREFECTURE, Role.PROVINCE, Role.SERVICE
EVERYONE = (HOSPITAL, PREFECTURE, PROVINCE, SERVICE)
BUREAUS = (PREFECTURE, PROVINCE, SERVICE)
"""The payers' side: prefecture and province bureaus and the services acting for them."""

SUBJECT = {
    Role.HOSPITAL: re.compile(r"H\d{11}"),
    Role.PREFECTURE: re.compile(r"\d{6}"),
    Role.PROVINCE: re.compile(r"[A-Za-z0-9_.@-]{1,64}"),
    Role.SERVICE: re.compile(r"[a-z][a-z0-9-]{0,39}"),
}
"""What a subject of each role looks like; a token with another subject is not issued and not accepted."""

AccessTable = Mapping[str, frozenset[Role]]
"""Full gRPC method path ("/package.Service/Method") -> the roles that may call it."""


@dataclass(frozen=True)
class Principal:
    """The verified caller of one RPC. ``None`` in its place means dev mode: nobody is checked."""

    role: Role
    subject: str

    def __str__(self) -> str:
        return f"{self.role.value}:{self.subject}"


def access_table(service: str, methods: Mapping[str, Iterable[Role]]) -> dict[str, frozenset[Role]]:
    """The table of one gRPC service (its full name) from method name -> roles."""
    return {f"/{service}/{method}": frozenset(roles) for method, roles in methods.items()}


def merge_tables(tables: Iterable[AccessTable]) -> dict[str, frozenset[Role]]:
    """One table of many; a method declared twice must be declared the same way."""
    merged: dict[str, frozenset[Role]] = {}
    for table in tables:
        for method, roles in table.items():
            if merged.get(method, roles) != roles:
                raise ValueError(f"{method} is declared twice with different roles")
            merged[method] = roles
    return merged
