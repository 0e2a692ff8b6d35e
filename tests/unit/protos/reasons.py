"""Which error reasons each RPC can return, read from the code, and which its proto comment documents.

The code side is a static reading of libs/ and services/ (no import, no server): every construction of a
``libs.common.errors`` exception with a literal reason (``NotFound(..., reason="RUN_NOT_FOUND")``,
``InvalidArgument.field(...)``, a subclass whose ``__init__`` fixes its reason) is an error its function can
raise, and a function can raise what the functions it calls can raise. Calls are resolved by name: a plain name
through the module's own definitions and imports, ``self.f`` through the class and its bases, ``module.f``
through the import, and a method of an object of unknown type (``self._uploads.upload``) to every method of that
name defined in the same service or in libs/. That over-approximates (a method name shared by two classes counts
for both), never under-approximates for literal reasons; reasons computed at run time are not seen.

The documented side is the ``Errors:`` paragraph of each RPC comment in the descriptor image gen/protos.binpb:
``CODE [REASON, REASON] (note), CODE [REASON]``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from google.protobuf import descriptor_pb2

ERROR_BASE = "MedpayError"
DEFAULT_FIELD_REASON = "INVALID_FIELD"
ERRORS = re.compile(r"Errors:(.*)", re.S)
UNKNOWN = frozenset({"Any", "object", "Self", "T", "E", "R"})
"""Annotations that say nothing about the class."""
BUILTIN_METHODS = frozenset(name for kind in (str, bytes, list, dict, set, tuple, int, re.Match, re.Pattern)
                            for name in dir(kind))
"""Methods of the builtin types: a call of one on an object of unknown type is not guessed to be ours."""
PAGE_SIZE = "libs.common.paging.page_size"
ALL = frozenset({"*"})
"""Every code: what ``except Exception`` swallows."""
CODE_REASONS = re.compile(r"\b([A-Z][A-Z_]+)\s*\[([^\]]+)\]")
REASON = re.compile(r"\b[A-Z][A-Z0-9_]+\b")
NOTE = re.compile(r"\([^)]*\)")


@dataclass(eq=False)
class Function:
    module: str
    owner: str | None
    """The class a method belongs to (None for a module-level function)."""
    node: ast.FunctionDef | ast.AsyncFunctionDef
    package: str
    """``services.<name>`` or ``libs``: where calls on objects of unknown type are looked for."""
    scope: dict[str, Type] | None = None
    own: tuple[set[tuple[str, str]], list[tuple[Function, frozenset[str]]]] | None = None


@dataclass(eq=False)
class Klass:
    module: str
    name: str
    bases: list[str]
    methods: dict[str, Function] = field(default_factory=dict)
    code: str | None = None
    attributes: dict[str, Type] | None = None


@dataclass(frozen=True)
class Type:
    """What an expression holds: an instance of ``klass``, or (``returns``) a callable that makes one."""

    klass: Klass | None
    """None: a class from outside libs/ and services/ (``AsyncSession``), whose methods raise no errors of ours."""
    returns: bool = False


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)
    """Local name -> dotted target (``libs.common.errors.NotFound`` or a module ``libs.common.paging``)."""
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, Klass] = field(default_factory=dict)
    classes_ast: dict[str, ast.ClassDef] = field(default_factory=dict)


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" else "libs"


def _where(function: Function) -> str:
    return f"{function.module}.{function.owner + '.' if function.owner else ''}{function.node.name}"


def _literal_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class Code:
    """The modules of libs/ and services/, and what each function can raise."""

    def __init__(self, root: Path) -> None:
        self.modules: dict[str, Module] = {}
        for path in sorted([*(root / "libs").rglob("*.py"), *(root / "services").rglob("*.py")]):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            self.modules[name] = self._index(name, ast.parse(path.read_text(encoding="utf-8")),
                                             path.name == "__init__.py")
        self.classes: dict[str, list[Klass]] = {}
        self.methods: dict[tuple[str, str], list[Function]] = {}
        for module in self.modules.values():
            for klass in module.classes.values():
                self.classes.setdefault(klass.name, []).append(klass)
                for name, method in klass.methods.items():
                    self.methods.setdefault((method.package, name), []).append(method)

    def _index(self, name: str, tree: ast.Module, is_package: bool) -> Module:
        module = Module(name, tree)
        base = name.split(".") if is_package else name.split(".")[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                origin = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{origin}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    module.imports[bound] = alias.name if alias.asname else bound
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                module.functions[node.name] = Function(name, None, node, _package(name))
            elif isinstance(node, ast.ClassDef):
                klass = Klass(name, node.name, [ast.unparse(b).split(".")[-1] for b in node.bases])
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        klass.methods[item.name] = Function(name, node.name, item, _package(name))
                    elif isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code"
                                                              for t in item.targets):
                        klass.code = _literal(item.value)
                module.classes[node.name] = klass
                module.classes_ast[node.name] = node
        return module

    # -- the error classes --------------------------------------------------------------------------------

    def _klass(self, module: str, name: str) -> Klass | None:
        """The class ``name`` means in ``module`` (its own, or imported from an indexed module)."""
        own = self.modules[module]
        if name in own.classes:
            return own.classes[name]
        target = own.imports.get(name)
        if target:
            origin, _, attr = target.rpartition(".")
            if origin in self.modules and attr in self.modules[origin].classes:
                return self.modules[origin].classes[attr]
        candidates = self.classes.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    def chain(self, klass: Klass) -> Iterator[Klass]:
        """The class and its indexed bases, nearest first."""
        seen: set[int] = set()
        todo = [klass]
        while todo:
            current = todo.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            todo.extend(b for base in current.bases if (b := self._klass(current.module, base)) is not None)

    def _is_error(self, klass: Klass) -> bool:
        return any(k.name == ERROR_BASE for k in self.chain(klass))

    def _code(self, klass: Klass) -> str:
        return next((k.code for k in self.chain(klass) if k.code), "INTERNAL")

    def _constructed_reason(self, klass: Klass, call: ast.Call) -> str | None:
        """The reason an error constructed by ``call`` carries, when the code says it literally."""
        given = next((_literal(k.value) for k in call.keywords if k.arg == "reason"), None)
        if given is not None or any(k.arg == "reason" for k in call.keywords):
            return given
        init = next((k.methods["__init__"] for k in self.chain(klass) if "__init__" in k.methods
                     and k.name != ERROR_BASE), None)
        if init is None:
            return None
        params = [a.arg for a in init.node.args.args][1:]
        if "reason" in params:  # a subclass with a reason parameter (and maybe a default)
            index = params.index("reason")
            if index < len(call.args):
                return _literal(call.args[index])
            defaults = init.node.args.defaults
            offset = len(params) - len(defaults)
            return _literal(defaults[index - offset]) if index >= offset else None
        for node in ast.walk(init.node):  # a subclass that fixes its reason: super().__init__(..., reason="X")
            if isinstance(node, ast.Call) and any(k.arg == "reason" for k in node.keywords):
                return next(_literal(k.value) for k in node.keywords if k.arg == "reason")
        return None

    # -- types: enough of the annotations to follow ``self._uploads.upload`` and ``uow.lists.get`` ----------

    def _annotation(self, module: str, node: ast.expr | None) -> Type | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self._annotation(module, ast.parse(node.value, mode="eval").body)
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in UNKNOWN:
                return None
            return Type(self._klass(module, name))
        if isinstance(node, ast.BinOp):  # X | None
            return self._annotation(module, node.left) or self._annotation(module, node.right)
        if isinstance(node, ast.Subscript):
            outer = ast.unparse(node.value).split(".")[-1]
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if outer == "Callable" and len(inner) == 2:
                returned = self._annotation(module, inner[1])
                return Type(returned.klass, returns=True) if returned else None
            if outer in ("Awaitable", "Coroutine", "AsyncIterator", "Iterator", "AsyncGenerator", "Generator",
                         "Sequence", "list", "dict", "Mapping", "tuple", "set", "frozenset", "Iterable",
                         "AsyncIterable", "type"):
                return Type(None)
            if outer in ("Optional", "Annotated", "Final", "ClassVar"):
                return self._annotation(module, inner[0])
            return self._annotation(module, node.value)
        return None

    def _attributes(self, klass: Klass) -> dict[str, Type]:
        """The types of a class's attributes: class-level annotations and ``self.x = ...`` in its methods."""
        if klass.attributes is not None:
            return klass.attributes
        klass.attributes = {}
        found: dict[str, Type] = {}
        tree = self.modules[klass.module].classes_ast[klass.name]
        for item in tree.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) \
                    and (t := self._annotation(klass.module, item.annotation)) is not None:
                found[item.target.id] = t
        for method in klass.methods.values():
            scope = self._scope(method)
            for node in ast.walk(method.node):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign):
                    targets, value = [node.target], None
                    if (t := self._annotation(klass.module, node.annotation)) is not None \
                            and isinstance(node.target, ast.Attribute):
                        found.setdefault(node.target.attr, t)
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                            and target.value.id == "self" and value is not None and target.attr not in found \
                            and (t := self._type(method, scope, value)) is not None:
                        found[target.attr] = t
        klass.attributes = found
        return found

    def _attribute(self, klass: Klass, name: str) -> Type | None:
        for k in self.chain(klass):
            if name in self._attributes(k):
                return self._attributes(k)[name]
        return None

    def _scope(self, function: Function) -> dict[str, Type]:
        """The types of a function's parameters and of the locals it binds from calls and ``with ... as``."""
        if function.scope is not None:
            return function.scope
        scope: dict[str, Type] = {}
        function.scope = scope
        args = function.node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if (t := self._annotation(function.module, arg.annotation)) is not None:
                scope[arg.arg] = t
        for node in ast.walk(function.node):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if (t := self._type(function, scope, node.value)) is not None:
                    scope.setdefault(node.targets[0].id, t)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if (t := self._annotation(function.module, node.annotation)) is not None:
                    scope.setdefault(node.target.id, t)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) \
                            and (t := self._type(function, scope, item.context_expr)) is not None:
                        scope.setdefault(item.optional_vars.id, t)
        return scope

    def _type(self, function: Function, scope: dict[str, Type], node: ast.expr) -> Type | None:
        """The class an expression's value is an instance of, when the annotations say so."""
        if isinstance(node, ast.Await):
            return self._type(function, scope, node.value)
        if isinstance(node, ast.Name):
            if node.id in ("self", "cls") and function.owner:
                return Type(self.modules[function.module].classes[function.owner])
            return scope.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self._type(function, scope, node.value)
            if owner is None or owner.returns:
                return None
            return self._attribute(owner.klass, node.attr) if owner.klass else Type(None)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                klass = self._klass(function.module, func.id)
                if klass is not None:
                    return Type(klass)
                known = scope.get(func.id)
                if known and known.returns:
                    return Type(known.klass)
                for target in self._named(self.modules[function.module], func.id):
                    return self._returned(target, None)
                return None
            if isinstance(func, ast.Attribute):
                called = self._type(function, scope, func)
                if called and called.returns:
                    return Type(called.klass)
                owner = self._type(function, scope, func.value)
                if owner and not owner.returns and owner.klass is None:
                    return Type(None)
                if owner and not owner.returns and owner.klass:
                    for k in self.chain(owner.klass):
                        if func.attr in k.methods:
                            return self._returned(k.methods[func.attr], owner)
        return None

    def _returned(self, function: Function, receiver: Type | None) -> Type | None:
        returns = function.node.returns
        if isinstance(returns, ast.Name) and returns.id == "Self":
            return receiver
        return self._annotation(function.module, returns)

    # -- calls ----------------------------------------------------------------------------------------------

    def _methods(self, klass: Klass | None, name: str) -> list[Function]:
        """``name`` as the class (or a subclass of it, for a protocol or an abstract base) implements it."""
        if klass is None:
            return []
        for k in self.chain(klass):
            if name in k.methods:
                found = [k.methods[name]]
                break
        else:
            return []
        if set(klass.bases) & {"Protocol", "ABC"}:
            found += [k.methods[name] for ks in self.classes.values() for k in ks
                      if k is not klass and name in k.methods and any(c is klass for c in self.chain(k))]
            if len(found) == 1:  # a structural protocol: whatever implements the name in the same service
                found += self.methods.get((_package(klass.module), name), [])
        return found

    def _targets(self, function: Function, call: ast.Call) -> Iterator[Function]:
        module = self.modules[function.module]
        func = call.func
        if isinstance(func, ast.Name):
            yield from self._named(module, func.id)
            return
        if not isinstance(func, ast.Attribute):
            return
        receiver = func.value
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
            owner = module.classes.get(function.owner or "")
            for klass in list(self.chain(owner))[1:] if owner else ():
                if func.attr in klass.methods:
                    yield klass.methods[func.attr]
                    return
            return
        if isinstance(receiver, ast.Name) and module.imports.get(receiver.id) in self.modules:
            yield from self._named(self.modules[module.imports[receiver.id]], func.attr)
            return
        if isinstance(receiver, ast.Name) and receiver.id not in self._scope(function) \
                and (klass := self._klass(function.module, receiver.id)) is not None:
            yield from self._methods(klass, func.attr)  # Class.method(...)
            return
        known = self._type(function, self._scope(function), receiver)
        if known is not None and not known.returns:
            yield from self._methods(known.klass, func.attr)
            return
        if func.attr.startswith("__") or func.attr in BUILTIN_METHODS:
            return
        candidates = [*self.methods.get((function.package, func.attr), []),
                      *(self.methods.get(("libs", func.attr), []) if function.package != "libs" else [])]
        if len(candidates) == 1:  # an object of unknown type: only a method name defined once is followed
            yield candidates[0]

    def _referenced(self, function: Function, node: ast.Name | ast.Attribute) -> list[Function]:
        """The function a name passed as an argument stands for (``visible=visible``, ``self._check``)."""
        module = self.modules[function.module]
        if isinstance(node, ast.Name):
            if node.id in module.functions:
                return [module.functions[node.id]]
            target = module.imports.get(node.id, "")
            origin, _, attr = target.rpartition(".")
            if origin in self.modules and attr in self.modules[origin].functions:
                return [self.modules[origin].functions[attr]]
            return []
        if isinstance(node.value, ast.Name) and node.value.id == "self" and function.owner:
            owner = module.classes.get(function.owner)
            return self._methods(owner, node.attr)[:1] if owner else []
        return []

    def _named(self, module: Module, name: str) -> Iterator[Function]:
        if name in module.functions:
            yield module.functions[name]
            return
        klass = self._klass(module.name, name)
        if klass is not None:
            for k in self.chain(klass):
                for special in ("__init__", "__post_init__"):
                    if special in k.methods:
                        yield k.methods[special]
            return
        target = module.imports.get(name)
        if target:
            origin, _, attr = target.rpartition(".")
            if origin in self.modules and origin != module.name:
                yield from self._named(self.modules[origin], attr)

    def _caught(self, function: Function, handler: ast.ExceptHandler) -> frozenset[str]:
        """The gRPC codes an ``except`` clause swallows (ALL for a broad one); none when it re-raises."""
        if any(isinstance(n, ast.Raise) and n.exc is None for n in ast.walk(handler)):
            return frozenset()
        if handler.type is None:
            return ALL
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        codes: set[str] = set()
        for name in names:
            text = ast.unparse(name).split(".")[-1]
            if text in ("Exception", "BaseException", ERROR_BASE):
                return ALL
            klass = self._klass(function.module, text)
            if klass is not None and self._is_error(klass):
                codes.add(self._code(klass))
        return frozenset(codes)

    def _own(self, function: Function) -> tuple[set[tuple[str, str]], list[tuple[Function, frozenset[str]]]]:
        """The errors ``function`` constructs itself, and the functions it calls with the codes that the call's
        ``try`` swallows."""
        if function.own is not None:
            return function.own
        raised: set[tuple[str, str]] = set()
        called: list[tuple[Function, frozenset[str]]] = []

        def visit(node: ast.AST, caught: frozenset[str]) -> None:
            if isinstance(node, ast.Try | ast.TryStar):
                inner = caught.union(*(self._caught(function, h) for h in node.handlers))
                for child in node.body:
                    visit(child, inner)
                for child in [*node.handlers, *node.orelse, *node.finalbody]:
                    visit(child, caught)
                return
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "gather" and any(
                    k.arg == "return_exceptions" and _literal_true(k.value) for k in node.keywords):
                for child in node.args:  # asyncio.gather(..., return_exceptions=True) hands errors back
                    visit(child, ALL)
                return
            if isinstance(node, ast.Call):
                for argument in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(argument, ast.Name | ast.Attribute):  # a callback: assume it is called
                        called.extend((target, caught) for target in self._referenced(function, argument))
                error = self._constructed(function, node)
                if error is not None:
                    if error[1]:
                        raised.add(error)
                else:
                    called.extend((target, caught) for target in self._targets(function, node))
            for child in ast.iter_child_nodes(node):
                visit(child, caught)

        for statement in function.node.body:
            visit(statement, frozenset())
        function.own = (raised, called)
        return function.own

    def _constructed(self, function: Function, node: ast.Call) -> tuple[str, str | None] | None:
        """(code, reason) when ``node`` constructs an error; the reason is None when the code does not say."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "field" and isinstance(func.value, ast.Name):
            klass = self._klass(function.module, func.value.id)
            if klass is not None and self._is_error(klass):
                reason = next((_literal(k.value) for k in node.keywords if k.arg == "reason"),
                              _literal(node.args[2]) if len(node.args) > 2 else DEFAULT_FIELD_REASON)
                return self._code(klass), reason
        if isinstance(func, ast.Name):
            klass = self._klass(function.module, func.id)
            if klass is not None and self._is_error(klass):
                return self._code(klass), self._constructed_reason(klass, node)
        return None

    def raises(self, function: Function) -> dict[tuple[str, str], list[str]]:
        """Every (gRPC code, reason) ``function`` or anything it calls can raise, each with a call path to
        where it is raised (to explain a finding)."""
        reachable: dict[int, Function] = {}
        todo = [function]
        while todo:
            current = todo.pop()
            if id(current) not in reachable:
                reachable[id(current)] = current
                todo.extend(target for target, _ in self._own(current)[1])
        found: dict[int, dict[tuple[str, str], list[str]]] = {
            key: {error: [_where(f)] for error in self._own(f)[0]} for key, f in reachable.items()}
        changed = True
        while changed:
            changed = False
            for key, current in reachable.items():
                mine = found[key]
                for target, caught in self._own(current)[1]:
                    if "*" in caught:
                        continue
                    for error, path in found[id(target)].items():
                        if error not in mine and error[0] not in caught:
                            mine[error] = [_where(current), *path]
                            changed = True
        return found[id(function)]

    def reachable(self, function: Function) -> list[Function]:
        """``function`` and every function it can call (errors swallowed or not)."""
        found: dict[int, Function] = {}
        todo = [function]
        while todo:
            current = todo.pop()
            if id(current) not in found:
                found[id(current)] = current
                todo.extend(target for target, _ in self._own(current)[1])
        return list(found.values())

    def page_sizes(self, function: Function) -> set[tuple[int, int]]:
        """The (default, maximum) of every ``libs.common.paging.page_size`` call ``function`` can reach."""
        sizes: set[tuple[int, int]] = set()
        for current in self.reachable(function):
            module = self.modules[current.module]
            for node in ast.walk(current.node):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                        module.imports.get(node.func.id) == PAGE_SIZE
                        or f"{current.module}.{node.func.id}" == PAGE_SIZE):
                    values: list[int | None] = []
                    for arg in node.args[1:]:
                        if isinstance(arg, ast.Starred):
                            values += self._constant(module, arg.value) or [None, None]
                        else:
                            values += self._constant(module, arg) or [None]
                    assert len(values) >= 2 and None not in values[:2], \
                        f"{_where(current)}: page_size(...) with sizes that are not constants"
                    sizes.add((int(values[0] or 0), int(values[1] or 0)))
        return sizes

    def _constant(self, module: Module, node: ast.expr) -> list[int | None] | None:
        """An int, or a tuple of ints, written literally or as a module constant (own or imported)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return [node.value]
        if isinstance(node, ast.Tuple):
            return [v for e in node.elts for v in (self._constant(module, e) or [None])]
        if isinstance(node, ast.Name):
            for statement in module.tree.body:
                if isinstance(statement, ast.AnnAssign) and statement.value is not None:
                    target, value = statement.target, statement.value
                elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                else:
                    continue
                if isinstance(target, ast.Name) and target.id == node.id:
                    return self._constant(module, value)
                if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):  # DEFAULT, MAX = 100, 1000
                    for name, element in zip(target.elts, value.elts, strict=False):
                        if isinstance(name, ast.Name) and name.id == node.id:
                            return self._constant(module, element)
            origin, _, attr = module.imports.get(node.id, "").rpartition(".")
            if origin in self.modules:
                return self._constant(self.modules[origin], ast.Name(attr))
        return None

    @cached_property
    def servicers(self) -> dict[str, Klass]:
        """Proto service full name -> the class implementing it (a subclass of the generated ``...Servicer``)."""
        found: dict[str, Klass] = {}
        for module in self.modules.values():
            for node in module.tree.body:
                if not isinstance(node, ast.ClassDef):
                    continue
                for base in node.bases:
                    text = ast.unparse(base)
                    alias, _, generated = text.rpartition(".")
                    target = module.imports.get(alias, "")
                    if generated.endswith("Servicer") and target.startswith("medpay."):
                        package = target.rsplit(".", 1)[0]
                        found[f"{package}.{generated.removesuffix('Servicer')}"] = module.classes[node.name]
        return found


@cache
def read_code(root: Path) -> Code:
    """The reading of ``root``'s libs/ and services/, made once per test session (it parses every module)."""
    return Code(root)


@dataclass(frozen=True)
class Rpc:
    service: str
    method: str
    comment: str

    @property
    def documented(self) -> frozenset[tuple[str, str]]:
        match = ERRORS.search(self.comment)
        if match is None:
            return frozenset()
        return frozenset((code, reason) for code, reasons in CODE_REASONS.findall(match[1])
                         for reason in REASON.findall(NOTE.sub("", reasons)))


@dataclass(frozen=True)
class Service:
    name: str
    comment: str
    rpcs: tuple[Rpc, ...]


def services(image: Path) -> list[Service]:
    """The medpay services of a descriptor image with comments (gen/protos.binpb)."""
    files = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
    found: list[Service] = []
    for file in files.file:
        if not file.package.startswith("medpay."):
            continue
        comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        for s, service in enumerate(file.service):
            name = f"{file.package}.{service.name}"
            rpcs = tuple(Rpc(name, m.name, comments.get((6, s, 2, i), "")) for i, m in enumerate(service.method))
            found.append(Service(name, comments.get((6, s), ""), rpcs))
    return found
