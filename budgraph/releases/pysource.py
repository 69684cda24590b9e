"""Reading Python source with ``ast``, never importing it.

``Module.value`` evaluates what a release writes as data: literals, names bound at module level in the
same file, ``**`` merges of dicts and dict comprehensions over them with simple conditions (vLLM's
registry adds the Llama-architecture aliases that way). Anything else raises ``NotLiteral``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.tree import ReleaseTree


class NotLiteral(Exception):
    """The expression is computed: the importer records nothing rather than guessing."""


@dataclass(frozen=True)
class Import:
    module: str  # dotted, as written (without leading dots)
    level: int  # leading dots of a relative import
    name: str  # the name in that module


@dataclass
class Module:
    path: str
    tree: ast.Module
    assignments: dict[str, ast.expr] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, Import] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    self.assignments[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                self.assignments[node.target.id] = node.value
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        for found in ast.walk(self.tree):  # imports inside functions count too (lazy imports)
            if isinstance(found, ast.ImportFrom):
                for alias in found.names:
                    bound = alias.asname or alias.name
                    self.imports.setdefault(bound, Import(found.module or "", found.level, alias.name))

    def value(self, node: ast.expr, env: dict[str, object] | None = None) -> object:
        return _Evaluator(self, env or {}).eval(node, depth=0)

    def named(self, name: str) -> object:
        if name not in self.assignments:
            raise ReleaseImportError(f"{self.path}: has no module-level `{name}`")
        return self.value(self.assignments[name])

    def resolve_import(self, name: str) -> str | None:
        """The dotted module a name was imported from, made absolute."""
        found = self.imports.get(name)
        if found is None:
            return None
        if found.level == 0:
            return found.module
        package = list(PurePosixPath(self.path).parent.parts)
        package = package[: len(package) - (found.level - 1)] if found.level > 1 else package
        return ".".join([*package, *([found.module] if found.module else [])])


def parse(tree: ReleaseTree, path: str) -> Module | None:
    text = tree.text(path)
    if text is None:
        return None
    try:
        return Module(path, ast.parse(text, filename=path))
    except SyntaxError as exc:
        raise ReleaseImportError(
            f"{tree.artifact}: {path} is not valid Python ({exc.msg}, line {exc.lineno})"
        ) from exc


def module_file(tree: ReleaseTree, dotted: str) -> str | None:
    """The file of a dotted module inside the release, if the release has it."""
    base = dotted.replace(".", "/")
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if tree.exists(candidate):
            return candidate
    return None


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for an attribute chain of names, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def methods(cls: ast.ClassDef) -> Iterator[ast.FunctionDef]:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            yield node


def single_return(function: ast.FunctionDef) -> ast.expr | None:
    """The returned expression of a function whose body (after a docstring) is one ``return``."""
    body = [n for n in function.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return body[0].value
    return None


_MAX_DEPTH = 50


class _Evaluator:
    def __init__(self, module: Module, env: dict[str, object]) -> None:
        self.module = module
        self.env = env

    def eval(self, node: ast.expr, depth: int) -> object:
        if depth > _MAX_DEPTH:
            raise NotLiteral("nested too deeply")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Tuple):
            return tuple(self.eval(e, d) for e in node.elts)
        if isinstance(node, ast.List):
            return [self.eval(e, d) for e in node.elts]
        if isinstance(node, ast.Dict):
            out: dict[object, object] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    merged = self.eval(value, d)
                    if not isinstance(merged, dict):
                        raise NotLiteral("** of a non-dict")
                    out.update(merged)
                else:
                    out[self.eval(key, d)] = self.eval(value, d)
            return out
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in self.module.assignments:
                return self.eval(self.module.assignments[node.id], d)
            raise NotLiteral(f"`{node.id}` is not a module-level value of {self.module.path}")
        if isinstance(node, ast.DictComp):
            return self._dict_comprehension(node, d)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self.eval(node.left, d), self.eval(node.comparators[0], d)
            return _compare(node.ops[0], left, right)
        if isinstance(node, ast.BoolOp):
            values = [bool(self.eval(v, d)) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.eval(node.operand, d)
        raise NotLiteral(f"{type(node).__name__} at line {getattr(node, 'lineno', '?')}")

    def _dict_comprehension(self, node: ast.DictComp, depth: int) -> dict[object, object]:
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise NotLiteral("a comprehension with several generators")
        generator = node.generators[0]
        source = generator.iter
        items = False
        if (
            isinstance(source, ast.Call)
            and isinstance(source.func, ast.Attribute)
            and source.func.attr == "items"
            and not source.args
        ):
            source, items = source.func.value, True
        iterable = self.eval(source, depth)
        if not isinstance(iterable, dict | list | tuple):
            raise NotLiteral("a comprehension over a non-collection")
        elements = list(iterable.items()) if items and isinstance(iterable, dict) else list(iterable)
        out: dict[object, object] = {}
        for element in elements:
            env = dict(self.env)
            _bind(generator.target, element, env)
            inner = _Evaluator(self.module, env)
            if all(inner.eval(cond, depth) for cond in generator.ifs):
                out[inner.eval(node.key, depth)] = inner.eval(node.value, depth)
        return out


def _bind(target: ast.expr, value: object, env: dict[str, object]) -> None:
    if isinstance(target, ast.Name):
        env[target.id] = value
    elif isinstance(target, ast.Tuple | ast.List) and isinstance(value, tuple | list):
        if len(target.elts) != len(value):
            raise NotLiteral("unpacking of a different length")
        for t, v in zip(target.elts, value, strict=True):
            _bind(t, v, env)
    else:
        raise NotLiteral("an unsupported comprehension target")


def _compare(op: ast.cmpop, left: object, right: object) -> bool:
    if isinstance(op, ast.Eq):
        return left == right
    if isinstance(op, ast.NotEq):
        return left != right
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(right, dict | list | tuple | str):
            raise NotLiteral("`in` a non-collection")
        found = left in right
        return found if isinstance(op, ast.In) else not found
    raise NotLiteral(f"comparison {type(op).__name__}")
