"""The service registry: one declaration per service, read by everything that needs to know the services.

A service declares itself in ``services/<name>/declaration.py`` with a module-level ``SERVICE``:

    SERVICE = ServiceDeclaration(
        name="settlement",                          # medpay serve settlement; MEDPAY_SETTLEMENT_ADDRESS
        summary="payment settlement and clearing",
        spec=_spec,                                 # async (Runtime) -> ServiceSpec; imports lazily inside
        schemas=(Schema("settlement", HERE / "adapters" / "migrations"),),
        depends_on=("collection",),                 # services it calls, started before it
        also_calls=(),                              # services it calls that may start after it
        k8s_name="medpay-settlement",
        access=ACCESS,                              # who may call each RPC (libs/common/auth/roles.py)
    )

and nothing else has to change: ``medpay serve`` and ``medpay migrate`` offer it, the migration runner
(``libs.common.db.migrate``) applies its schemas, ``services.cli.processes.start_services`` (the demo, the
benchmarks, the process tests) starts it after its dependencies with their addresses. A process hosting two
APIs with two schemas and two Alembic histories (evaluation: ``evaluation`` and ``review``) lists both schemas.

Declarations must stay cheap to import (no grpc, SQLAlchemy or service code at module level): ``medpay --help``
and ``medpay serve --help`` read them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .auth.roles import AccessTable, Role, merge_tables

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from .grpc.server import ServiceSpec
    from .runtime import Runtime

DECLARATION_MODULE = "declaration"
"""``services/<name>/declaration.py`` is where a service declares itself."""


@dataclass(frozen=True)
class Schema:
    """A PostgreSQL schema a service owns, with its own linear Alembic history in ``migrations``
    (a folder with ``env.py`` calling ``libs.common.db.migrate.run_env`` and ``versions/``), and ``tables``:
    where the code declares the schema's SQLAlchemy tables, ``"module:attribute"`` naming its ``MetaData`` (or a
    function returning it, when the tables are spread over modules). The tests hold the two to each other:
    Alembic's autogenerate, run against the migrated schema, must find nothing to change."""

    name: str
    migrations: Path
    tables: str = ""

    def metadata(self) -> MetaData:
        """The schema's tables as the code declares them (imports the service's table modules: not for
        ``--help`` paths)."""
        if not self.tables:
            raise LookupError(f"schema {self.name} declares no tables (Schema.tables)")
        module, _, attribute = self.tables.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        return cast("MetaData", found() if callable(found) else found)


@dataclass(frozen=True)
class HttpDoor:
    """An HTTP listener the service runs beside gRPC (collection's national interface): the setting with its
    address and the path that answers 200 once it serves, so process starters can give it a port and wait."""

    address_setting: str
    health_path: str


@dataclass(frozen=True)
class ServiceDeclaration:
    """Everything the platform's tools need to know of one service process.

    ``spec`` builds the gRPC side (servicers, start/stop hooks) from the process runtime; it is awaited by
    ``medpay serve``. The service's listen address is the setting ``<name>_address`` (``MEDPAY_<NAME>_ADDRESS``),
    which is also how its callers find it. ``depends_on`` names the services it calls and needs up before it
    starts; ``also_calls`` those it calls only later (on a request), which may start after it (calls in both
    directions would be a cycle of ``depends_on``). ``calls`` is both: the k8s NetworkPolicies allow exactly
    these connections. ``k8s_name`` is the name of its Deployment and Service in ``deploy/k8s``.
    """

    name: str
    summary: str
    spec: Callable[[Runtime], Awaitable[ServiceSpec]]
    schemas: tuple[Schema, ...] = ()
    depends_on: tuple[str, ...] = ()
    also_calls: tuple[str, ...] = ()
    k8s_name: str = ""
    http: HttpDoor | None = None
    access: AccessTable = field(default_factory=dict)
    """Roles that may call each RPC of the service's gRPC services (``access_table`` per service); with
    ``MEDPAY_AUTH_DIR`` set a method found in no table is refused, and a test checks every method is in one."""

    @property
    def address_setting(self) -> str:
        """The ``Settings`` field with this service's gRPC address (env ``MEDPAY_<NAME>_ADDRESS``)."""
        return f"{self.name}_address"

    @property
    def calls(self) -> tuple[str, ...]:
        """Every service this one calls (``depends_on`` then ``also_calls``)."""
        return (*self.depends_on, *(name for name in self.also_calls if name not in self.depends_on))

    @property
    def address_env(self) -> str:
        return f"MEDPAY_{self.name.upper()}_ADDRESS"


class RegistryError(ValueError):
    """Declarations that contradict each other (a name or schema twice, an unknown or circular dependency)."""


class Registry:
    """The declared services in a deterministic order (by name), checked for consistency."""

    def __init__(self, declarations: Iterable[ServiceDeclaration]) -> None:
        self._services: dict[str, ServiceDeclaration] = {}
        schemas: dict[str, str] = {}
        for declaration in sorted(declarations, key=lambda d: d.name):
            if declaration.name in self._services:
                raise RegistryError(f"service {declaration.name!r} is declared twice")
            self._services[declaration.name] = declaration
            for schema in declaration.schemas:
                if schema.name in schemas:
                    raise RegistryError(f"schema {schema.name!r} is declared by {schemas[schema.name]!r} "
                                        f"and {declaration.name!r}")
                schemas[schema.name] = declaration.name
        for declaration in self._services.values():
            for needed in declaration.calls:
                if needed not in self._services:
                    raise RegistryError(f"{declaration.name!r} depends on undeclared service {needed!r}")
        self.start_order(self.names())  # raises on a dependency cycle

    def __iter__(self) -> Iterator[ServiceDeclaration]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def names(self) -> list[str]:
        return list(self._services)

    def get(self, name: str) -> ServiceDeclaration:
        try:
            return self._services[name]
        except KeyError:
            raise RegistryError(f"unknown service {name!r}; declared: {', '.join(self._services)}") from None

    def schemas(self) -> list[Schema]:
        """Every schema of every service, in the order migrations are applied."""
        return [schema for declaration in self for schema in declaration.schemas]

    def schema(self, name: str) -> Schema:
        for schema in self.schemas():
            if schema.name == name:
                return schema
        raise RegistryError(f"no service declares schema {name!r}; declared: "
                            f"{', '.join(s.name for s in self.schemas())}")

    def access_table(self) -> dict[str, frozenset[Role]]:
        """Every declared method's roles: the services' tables and the shared Operations service's."""
        from .runs.access import OPERATIONS_ACCESS

        return merge_tables([OPERATIONS_ACCESS, *(d.access for d in self)])

    def start_order(self, names: Iterable[str]) -> list[str]:
        """``names`` and everything they depend on, each after its dependencies (ties by name)."""
        ordered: list[str] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in ordered:
                return
            if name in visiting:
                raise RegistryError(f"circular dependency: {' -> '.join([*visiting, name])}")
            visiting.append(name)
            for needed in sorted(self.get(name).depends_on):
                visit(needed)
            visiting.pop()
            ordered.append(name)

        for name in sorted(names):
            visit(name)
        return ordered


def discover(package: str = "services") -> Registry:
    """The declarations of every sub-package of ``package`` that has a ``declaration`` module."""
    root = importlib.import_module(package)
    found = []
    for sub in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if not sub.ispkg:
            continue
        spec_path = Path(sub.module_finder.path) / sub.name / f"{DECLARATION_MODULE}.py"  # type: ignore[union-attr]
        if spec_path.is_file():
            module = importlib.import_module(f"{package}.{sub.name}.{DECLARATION_MODULE}")
            found.append(module.SERVICE)
    return Registry(found)


@cache
def services() -> Registry:
    """The registry of this installation (``services/*/declaration.py``), discovered once per process."""
    return discover()
