"""Quantization methods and what each method's config class declares.

A config class declares its minimum CUDA compute capability in ``get_min_capability()`` and its activation
dtypes in ``get_supported_act_dtypes()``. Only a body that is one ``return`` of a constant (``return 89``) or
of a list of ``torch`` dtypes is read; anything computed gives ``None`` / ``()``, and the fact's symbol
names the method that was (or was not) found.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from budgraph.releases import pysource
from budgraph.releases.classes import ClassIndex, FoundClass
from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.facts import QuantizationFact, SourceRef
from budgraph.releases.tree import ReleaseTree

TORCH_DTYPES = {
    "half": "float16",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float": "float32",
    "float32": "float32",
}


@dataclass(frozen=True)
class _Declared:
    min_capability: str | None
    dtypes: tuple[str, ...]
    file: str
    symbol: str


def _method(index: ClassIndex, found: FoundClass, name: str) -> tuple[FoundClass, ast.FunctionDef] | None:
    """The first definition of ``name`` walking up the class's bases (depth first, like a simple MRO)."""
    for cls in index.ancestry(found).classes:
        for function in pysource.methods(cls.node):
            if function.name == name:
                return cls, function
    return None


def _capability(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        if node.value <= 0:
            return None
        return f"{node.value // 10}.{node.value % 10}"
    return None


def _dtypes(node: ast.expr | None) -> tuple[str, ...]:
    if not isinstance(node, ast.List | ast.Tuple):
        return ()
    names: list[str] = []
    for element in node.elts:
        dotted = pysource.dotted_name(element)
        if dotted is None or not dotted.startswith("torch."):
            return ()  # something computed in the list: say nothing rather than a part
        attr = dotted.removeprefix("torch.")
        names.append(TORCH_DTYPES.get(attr, attr))
    return tuple(dict.fromkeys(names))


def declared_by(index: ClassIndex, found: FoundClass) -> _Declared:
    capability = _method(index, found, "get_min_capability")
    dtypes = _method(index, found, "get_supported_act_dtypes")
    if capability is not None:
        owner, function = capability
        file, symbol = owner.module.path, f"{owner.node.name}.get_min_capability"
        min_capability = _capability(pysource.single_return(function))
    else:
        file, symbol, min_capability = found.module.path, f"{found.node.name} (no get_min_capability)", None
    act = _dtypes(pysource.single_return(dtypes[1])) if dtypes is not None else ()
    return _Declared(min_capability, act, file, symbol)


def config_class(index: ClassIndex, module: pysource.Module, name: str) -> FoundClass | None:
    """The class a name in ``module`` stands for (defined there or imported from the release)."""
    if name in module.classes:
        return FoundClass(module, module.classes[name])
    origin = module.resolve_import(name)
    return index.find(origin, module.imports[name].name) if origin else None


def method_fact(
    index: ClassIndex,
    module: pysource.Module,
    *,
    method: str,
    config: ast.expr | None,
    table_symbol: str,
    device: str,
    artifact: str,
    version: str,
    with_capability: bool = True,
) -> QuantizationFact:
    found = config_class(index, module, config.id) if isinstance(config, ast.Name) else None
    if found is None:
        why = "computed" if config is not None else "no config class"
        source = SourceRef(artifact, version, module.path, f"{table_symbol}[{method!r}] ({why})")
        return QuantizationFact(method, device, None, (), source)
    declared = declared_by(index, found)
    return QuantizationFact(
        method=method,
        device_architecture=device,
        min_compute_capability=declared.min_capability if with_capability else None,
        activation_dtypes=declared.dtypes,
        source=SourceRef(artifact, version, declared.file, declared.symbol),
    )


def _literal_methods(module: pysource.Module) -> list[str]:
    """vLLM's method names: ``QuantizationMethods = Literal[...]`` or a ``QUANTIZATION_METHODS`` list."""
    literal = module.assignments.get("QuantizationMethods")
    if isinstance(literal, ast.Subscript) and pysource.dotted_name(literal.value) in (
        "Literal",
        "typing.Literal",
    ):
        elements = literal.slice.elts if isinstance(literal.slice, ast.Tuple) else [literal.slice]
        return [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if isinstance(module.assignments.get("QUANTIZATION_METHODS"), ast.Dict):
        table = module.assignments["QUANTIZATION_METHODS"]
        assert isinstance(table, ast.Dict)
        return [k.value for k in table.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if "QUANTIZATION_METHODS" in module.assignments:
        try:
            value = module.named("QUANTIZATION_METHODS")
        except pysource.NotLiteral:
            value = None
        if isinstance(value, list | dict):
            return [str(v) for v in value]
    raise ReleaseImportError(
        f"{module.path}: declares neither `QuantizationMethods` nor `QUANTIZATION_METHODS`"
    )


def _method_to_config(module: pysource.Module) -> tuple[dict[str, ast.expr], str]:
    """The ``{"fp8": Fp8Config, ...}`` dict ``get_quantization_config`` builds (``method_to_config``)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef) and node.name == "get_quantization_config":
            for statement in ast.walk(node):
                target: ast.expr | None = None
                value: ast.expr | None = None
                if isinstance(statement, ast.AnnAssign):
                    target, value = statement.target, statement.value
                elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
                    mapping = {
                        k.value: v
                        for k, v in zip(value.keys, value.values, strict=True)
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    }
                    return mapping, f"get_quantization_config.{target.id}"
    raise ReleaseImportError(f"{module.path}: `get_quantization_config` builds no method -> config dict")


def read_quantization(tree: ReleaseTree, path: str, version: str, *, device: str) -> list[QuantizationFact]:
    """vLLM: every method name it accepts, with what its config class declares."""
    module = pysource.parse(tree, path)
    if module is None:
        raise ReleaseImportError(f"{tree.artifact}: {path} is absent")
    index = ClassIndex(tree, in_release=lambda dotted: dotted.split(".", 1)[0] == "vllm")
    table = module.assignments.get("QUANTIZATION_METHODS")
    if isinstance(table, ast.Dict):  # before 0.6: one module-level {"awq": AWQConfig, ...}
        mapping = {
            k.value: v
            for k, v in zip(table.keys, table.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
        symbol = "QUANTIZATION_METHODS"
    else:
        mapping, symbol = _method_to_config(module)
    facts: list[QuantizationFact] = []
    for method in dict.fromkeys(_literal_methods(module)):
        facts.append(
            method_fact(
                index,
                module,
                method=method,
                config=mapping.get(method),
                table_symbol=symbol,
                device=device,
                artifact=tree.artifact,
                version=version,
            )
        )
    return facts
