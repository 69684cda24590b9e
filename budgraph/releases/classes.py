"""A class's ancestry across a release's files, read from ``class X(A, B)`` statements."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from budgraph.releases import pysource
from budgraph.releases.pysource import Module
from budgraph.releases.tree import ReleaseTree

# Bases that end a walk without saying anything (they are not the release's classes).
TERMINAL_BASES = frozenset({"object", "Module", "nn.Module", "torch.nn.Module", "ABC", "Protocol", "Generic"})


@dataclass(frozen=True)
class FoundClass:
    module: Module
    node: ast.ClassDef


@dataclass
class Ancestry:
    """The names of every base met walking up from a class, and whether every base was found."""

    names: set[str] = field(default_factory=set)
    classes: list[FoundClass] = field(default_factory=list)
    complete: bool = True


class ClassIndex:
    """Parses each file once and finds classes by module and name, following ``from X import Y``."""

    def __init__(self, tree: ReleaseTree, *, in_release: Callable[[str], bool]) -> None:
        self.tree = tree
        self.in_release = in_release  # does this dotted module belong to the release (vs torch, ...)?
        self._modules: dict[str, Module | None] = {}

    def module(self, path: str) -> Module | None:
        if path not in self._modules:
            self._modules[path] = pysource.parse(self.tree, path)
        return self._modules[path]

    def find(self, dotted_module: str, name: str, depth: int = 0) -> FoundClass | None:
        path = pysource.module_file(self.tree, dotted_module)
        module = self.module(path) if path else None
        if module is None or depth > 10:
            return None
        if name in module.classes:
            return FoundClass(module, module.classes[name])
        origin = module.resolve_import(name)
        if origin is not None and origin != dotted_module:
            return self.find(origin, module.imports[name].name, depth + 1)
        return None

    def ancestry(self, found: FoundClass) -> Ancestry:
        result = Ancestry()
        self._walk(found, result, seen=set())
        return result

    def _walk(self, found: FoundClass, result: Ancestry, seen: set[tuple[str, str]]) -> None:
        key = (found.module.path, found.node.name)
        if key in seen:
            return
        seen.add(key)
        result.classes.append(found)
        for base in found.node.bases:
            expr = base.value if isinstance(base, ast.Subscript) else base  # Generic[T], Foo[Bar]
            name = pysource.dotted_name(expr)
            if name is None:
                result.complete = False
                continue
            short = name.rsplit(".", 1)[-1]
            result.names.add(short)
            if name in TERMINAL_BASES or short in TERMINAL_BASES:
                continue
            parent = self._resolve(found.module, name)
            if parent is not None:
                self._walk(parent, result, seen)
            elif self._belongs_to_release(found.module, name):
                result.complete = False

    def _resolve(self, module: Module, name: str) -> FoundClass | None:
        head, _, rest = name.partition(".")
        if not rest:
            if name in module.classes:
                return FoundClass(module, module.classes[name])
            origin = module.resolve_import(name)
            return self.find(origin, module.imports[name].name) if origin else None
        origin = module.resolve_import(head)  # `from . import llama` then `llama.LlamaForCausalLM`
        if origin is not None:
            return self.find(f"{origin}.{module.imports[head].name}", rest)
        return None

    def _belongs_to_release(self, module: Module, name: str) -> bool:
        head, _, rest = name.partition(".")
        origin = module.resolve_import(head)
        if origin is None:
            return not rest  # a bare name bound some other way (an assignment, a star import): unknown
        return self.in_release(origin)


def class_attribute(found: FoundClass, name: str) -> object:
    """A constant a class body assigns to ``name`` (``supports_pp = True``), else ``None``."""
    for node in found.node.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name and isinstance(value, ast.Constant):
            return value.value
    return None
