"""SGLang: the classes each ``sglang/srt/models/*.py`` exports as ``EntryClass``, and its quantization table.

SGLang registers a model under its class's ``__name__``, which is the Hugging Face architecture. Its code
declares the kind of model in the class (and its bases): a ``CrossEncodingPooler`` makes a cross-encoder
(``/classify``, ``/v1/rerank``); a pooling model (a forward returning ``EmbeddingPoolerOutput``, or a
``Pooler`` and no ``LogitsProcessor``) with a ``score`` / ``classifier`` / ... head a classification
or reward model (``/classify``), without one an embedding model (``/v1/embeddings``); a ``pad_input_ids``
method (where image or audio tokens are placed) a multimodal model. LoRA where the class says
``supports_lora``; SGLang declares no pipeline-parallel flag per class, so that one is ``None``.
Speculative-decoding draft classes (EAGLE, NextN, MTP) are entry classes too and are kept: a draft
checkpoint declares them as its architecture.
"""

from __future__ import annotations

import ast

from budgraph.db.enums import DeviceArchitecture, Endpoint
from budgraph.releases import pysource
from budgraph.releases.classes import ClassIndex, FoundClass, class_attribute
from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.facts import ArchitectureFact, QuantizationFact, ReleaseFacts, SourceRef
from budgraph.releases.quantization import method_fact
from budgraph.releases.tree import ReleaseTree

MODELS = "sglang/srt/models"
QUANTIZATION = "sglang/srt/layers/quantization/__init__.py"
_BASE_TABLE = "BASE_QUANTIZATION_METHODS"
_CPU_TABLE = "CPU_QUANTIZATION_METHODS"
# The platform tests of `if is_cuda() or ...: BASE_QUANTIZATION_METHODS.update({...})` we can name.
_PLATFORMS = {"is_cuda": DeviceArchitecture.CUDA.value, "is_hip": DeviceArchitecture.ROCM.value}


def _entry_names(module: pysource.Module) -> list[str]:
    node = module.assignments.get("EntryClass")
    if node is None:
        return []
    elements = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    names = [e.id for e in elements if isinstance(e, ast.Name)]
    if len(names) != len(elements):
        raise ReleaseImportError(f"{module.path}: `EntryClass` is not a class name or a list of them")
    return names


def _calls(found: FoundClass) -> set[str]:
    return {
        name.rsplit(".", 1)[-1]
        for node in ast.walk(found.node)
        if isinstance(node, ast.Call) and (name := pysource.dotted_name(node.func)) is not None
    }


def _returns(found: FoundClass, method: str) -> str | None:
    for function in pysource.methods(found.node):
        if function.name == method and function.returns is not None:
            return ast.unparse(function.returns)
    return None


def _self_attributes(found: FoundClass) -> set[str]:
    return {
        target.attr
        for node in ast.walk(found.node)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }


_HEADS = frozenset({"score", "classifier", "classification_head", "v_head"})


def _fact(index: ClassIndex, found: FoundClass, source: SourceRef) -> ArchitectureFact:
    ancestry = index.ancestry(found)
    calls = set().union(*(_calls(c) for c in ancestry.classes))
    attributes = set().union(*(_self_attributes(c) for c in ancestry.classes))
    forward = next((r for c in ancestry.classes if (r := _returns(c, "forward")) is not None), "")
    multimodal = any(f.name == "pad_input_ids" for c in ancestry.classes for f in pysource.methods(c.node))
    pooling = forward == "EmbeddingPoolerOutput" or ("Pooler" in calls and "LogitsProcessor" not in calls)
    endpoints: tuple[str, ...]
    if "CrossEncodingPooler" in calls:
        task, endpoints = "cross-encoder", (Endpoint.CLASSIFY.value, Endpoint.RERANK.value)
    elif pooling and attributes & _HEADS:
        task, endpoints = "classification", (Endpoint.CLASSIFY.value,)
    elif pooling:
        task, endpoints = "embedding", (Endpoint.EMBEDDING.value,)
    else:
        task = "multimodal" if multimodal else "generate"
        endpoints = (Endpoint.CHAT.value, Endpoint.COMPLETION.value)
    lora = next(
        (v for c in ancestry.classes if isinstance(v := class_attribute(c, "supports_lora"), bool)), None
    )
    return ArchitectureFact(
        class_name=found.node.name,
        endpoints=endpoints,
        task=task,
        supports_pipeline_parallelism=None,
        supports_lora=lora,
        multimodal=multimodal,
        gguf_architecture=None,
        source=source,
    )


def _architectures(tree: ReleaseTree, index: ClassIndex, version: str) -> list[ArchitectureFact]:
    facts: dict[str, ArchitectureFact] = {}
    for path in tree.files_in(MODELS):
        if not path.endswith(".py"):
            continue
        module = index.module(path)
        if module is None:
            continue
        for name in _entry_names(module):
            found = index.find(path.removesuffix(".py").replace("/", "."), name)
            if found is None:
                raise ReleaseImportError(
                    f"{path}: `EntryClass` names `{name}`, which it neither defines nor imports"
                )
            fact = _fact(index, found, SourceRef(tree.artifact, version, path, f"EntryClass {name}"))
            facts.setdefault(fact.class_name, fact)
    return list(facts.values())


def _updates(module: pysource.Module) -> list[tuple[str, ast.Dict]]:
    """``if is_cuda() or ...: BASE_QUANTIZATION_METHODS.update({...})`` as (device, dict) pairs."""
    found: list[tuple[str, ast.Dict]] = []
    for node in module.tree.body:
        if not isinstance(node, ast.If):
            continue
        tests = (
            node.test.values
            if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.Or)
            else [node.test]
        )
        devices = {
            _PLATFORMS[name]
            for t in tests
            if isinstance(t, ast.Call) and (name := pysource.dotted_name(t.func)) in _PLATFORMS
        }
        for statement in node.body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and pysource.dotted_name(call.func) == f"{_BASE_TABLE}.update"
                and call.args
                and isinstance(call.args[0], ast.Dict)
            ):
                found.extend((device, call.args[0]) for device in sorted(devices))
    return found


def _table(node: ast.expr | None, path: str, name: str) -> dict[str, ast.expr]:
    if not isinstance(node, ast.Dict):
        raise ReleaseImportError(f"{path}: `{name}` is not a literal dict")
    return {
        k.value: v
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }


def _quantization(tree: ReleaseTree, index: ClassIndex, version: str) -> list[QuantizationFact]:
    module = index.module(QUANTIZATION)
    if module is None:
        raise ReleaseImportError(f"{tree.artifact}: {QUANTIZATION} is absent")
    cuda = DeviceArchitecture.CUDA.value
    cpu = DeviceArchitecture.CPU.value
    tables: list[tuple[str, str, dict[str, ast.expr]]] = [
        (cuda, _BASE_TABLE, _table(module.assignments.get(_BASE_TABLE), QUANTIZATION, _BASE_TABLE))
    ]
    if _CPU_TABLE in module.assignments:
        tables.append((cpu, _CPU_TABLE, _table(module.assignments[_CPU_TABLE], QUANTIZATION, _CPU_TABLE)))
    for device, update in _updates(module):
        tables.append((device, f"{_BASE_TABLE}.update", _table(update, QUANTIZATION, _BASE_TABLE)))
    facts: dict[tuple[str, str], QuantizationFact] = {}
    for device, symbol, table in tables:
        for method, config in table.items():
            if (method, device) not in facts:
                facts[(method, device)] = method_fact(
                    index,
                    module,
                    method=method,
                    config=config,
                    table_symbol=symbol,
                    device=device,
                    artifact=tree.artifact,
                    version=version,
                    with_capability=device == cuda,
                )
    return list(facts.values())


def import_sglang(tree: ReleaseTree, version: str) -> ReleaseFacts:
    if not tree.files_in(MODELS):
        raise ReleaseImportError(f"{tree.artifact}: not an SGLang release ({MODELS}/ is absent)")
    index = ClassIndex(tree, in_release=lambda dotted: dotted.split(".", 1)[0] == "sglang")
    architectures = _architectures(tree, index, version)
    quantization = _quantization(tree, index, version)
    return ReleaseFacts(
        engine="sglang",
        version=version,
        artifact=tree.artifact,
        architectures=tuple(sorted(architectures, key=lambda f: f.class_name)),
        dropped=(),
        quantization=tuple(sorted(quantization, key=lambda q: (q.method, q.device_architecture))),
    )
