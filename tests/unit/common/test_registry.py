"""The service registry: consistent declarations, dependency order, and the installation's own services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from libs.common.config import Settings
from libs.common.registry import Registry, RegistryError, Schema, ServiceDeclaration, services


async def _no_spec(runtime: Any) -> Any:
    raise AssertionError("not called")


def declare(name: str, *schemas: str, depends_on: tuple[str, ...] = (),
            also_calls: tuple[str, ...] = ()) -> ServiceDeclaration:
    return ServiceDeclaration(name, f"the {name} service", _no_spec,
                              schemas=tuple(Schema(s, Path("/nowhere") / s) for s in schemas),
                              depends_on=depends_on, also_calls=also_calls)


def test_start_order_puts_dependencies_first() -> None:
    registry = Registry([declare("settlement", "settlement", depends_on=("collection",)),
                         declare("collection", "collection", depends_on=("coding", "grouping")),
                         declare("grouping"), declare("coding", "coding"),
                         declare("evaluation", "evaluation", "review", depends_on=("collection",))])
    assert registry.names() == ["coding", "collection", "evaluation", "grouping", "settlement"]
    assert registry.start_order(["settlement"]) == ["coding", "grouping", "collection", "settlement"]
    assert registry.start_order(["evaluation", "coding"]) == ["coding", "grouping", "collection", "evaluation"]
    assert [s.name for s in registry.schemas()] == ["coding", "collection", "evaluation", "review", "settlement"]
    assert registry.schema("review").migrations == Path("/nowhere/review")


@pytest.mark.parametrize(("declarations", "problem"), [
    ([declare("a"), declare("a")], "declared twice"),
    ([declare("a", "x"), declare("b", "x")], "schema 'x' is declared by 'a' and 'b'"),
    ([declare("a", depends_on=("b",))], "undeclared service 'b'"),
    ([declare("a", also_calls=("b",))], "undeclared service 'b'"),
    ([declare("a", depends_on=("b",)), declare("b", depends_on=("a",))], "circular dependency: a -> b -> a"),
])
def test_contradicting_declarations_are_refused(declarations: list[ServiceDeclaration], problem: str) -> None:
    with pytest.raises(RegistryError, match=problem):
        Registry(declarations)


def test_calls_back_to_a_dependency_are_no_cycle() -> None:
    registry = Registry([declare("grouping", also_calls=("collection",)),
                         declare("collection", depends_on=("grouping",), also_calls=("grouping", "review")),
                         declare("review")])
    assert registry.start_order(["collection"]) == ["grouping", "collection"]
    assert registry.get("collection").calls == ("grouping", "review")
    assert registry.get("grouping").calls == ("collection",)


def test_unknown_names_are_errors_listing_what_exists() -> None:
    registry = Registry([declare("coding", "coding")])
    with pytest.raises(RegistryError, match="declared: coding"):
        registry.get("nope")
    with pytest.raises(RegistryError, match="declared: coding"):
        registry.schema("nope")


def test_the_installed_services_are_declared_consistently() -> None:
    registry = services()
    assert {"coding", "collection", "grouping"} <= set(registry.names())
    settings = Settings()
    for declaration in registry:
        assert hasattr(settings, declaration.address_setting), declaration.name
        assert declaration.k8s_name.startswith("medpay-"), declaration.name
        for schema in declaration.schemas:
            assert (schema.migrations / "env.py").is_file() and (schema.migrations / "versions").is_dir()
        if declaration.http is not None:
            assert hasattr(settings, declaration.http.address_setting)
    assert registry.start_order(["collection"])[-1] == "collection"
