"""vLLM: the model registry, each model class's interfaces, and the quantization configs.

What vLLM serves per registry table (``vllm/model_executor/models/registry.py``; the routes are
registered in ``vllm/entrypoints/pooling/factories.py``): text generation and multimodal models serve chat
and completion; embedding models ``/v1/embeddings``; sequence classification (older releases:
cross-encoder) models ``/classify`` and, for a single-label head, ``/score``/``/rerank``; late-interaction
(ColBERT-style) models ``/score``/``/rerank``; reward and token-classification models only ``/pooling``,
which has no budgraph endpoint. vLLM also scores with an embedding model (bi-encoder cosine similarity
on ``/score``/``/rerank``); that is not counted as RERANK here, a reranker is a model trained to rank.
Speculative-decoding drafts and the generic Transformers-backend names are not architectures a checkpoint
declares, so they are not facts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from budgraph.db.enums import DeviceArchitecture, Endpoint
from budgraph.releases import pysource
from budgraph.releases.classes import Ancestry, ClassIndex, FoundClass, class_attribute
from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.facts import (
    ArchitectureFact,
    DroppedArchitecture,
    QuantizationFact,
    ReleaseFacts,
    SourceRef,
)
from budgraph.releases.quantization import read_quantization
from budgraph.releases.tree import ReleaseTree

REGISTRY = "vllm/model_executor/models/registry.py"
# Before 0.6 the registry lived in the models package's __init__.py.
INTERFACES = "vllm/model_executor/models/interfaces.py"
REGISTRIES = (REGISTRY, "vllm/model_executor/models/__init__.py")
QUANTIZATION = "vllm/model_executor/layers/quantization/__init__.py"
_MODELS_PACKAGE = "vllm.model_executor.models"

_GENERATE = (Endpoint.CHAT.value, Endpoint.COMPLETION.value)
# Platforms whose class may list the quantization methods it allows (``supported_quantization``).
PLATFORMS = (
    ("vllm/platforms/rocm.py", DeviceArchitecture.ROCM.value),
    ("vllm/platforms/cpu.py", DeviceArchitecture.CPU.value),
    ("vllm/platforms/hpu.py", DeviceArchitecture.HPU.value),
)


@dataclass(frozen=True)
class _Table:
    name: str
    task: str
    endpoints: tuple[str, ...]
    multimodal: bool = False


# In order of precedence: an architecture in several tables takes its task from the first.
TABLES = (
    _Table("_TEXT_GENERATION_MODELS", "generate", _GENERATE),
    _Table("_GENERATION_MODELS", "generate", _GENERATE),  # before 0.6
    _Table("_MULTIMODAL_MODELS", "multimodal", _GENERATE, multimodal=True),
    _Table("_TRANSFORMERS_SUPPORTED_MODELS", "generate", _GENERATE),
    _Table("_EMBEDDING_MODELS", "embedding", (Endpoint.EMBEDDING.value,)),
    _Table("_CROSS_ENCODER_MODELS", "cross-encoder", (Endpoint.CLASSIFY.value, Endpoint.RERANK.value)),
    _Table(
        "_SEQUENCE_CLASSIFICATION_MODELS", "cross-encoder", (Endpoint.CLASSIFY.value, Endpoint.RERANK.value)
    ),
    _Table("_LATE_INTERACTION_MODELS", "late-interaction", (Endpoint.RERANK.value,)),
    _Table("_REWARD_MODELS", "reward", ()),
    _Table("_TOKEN_CLASSIFICATION_MODELS", "token-classification", ()),
)
SKIPPED_TABLES = ("_SPECULATIVE_DECODING_MODELS", "_TRANSFORMERS_BACKEND_MODELS")


def _transformers_table(vllm_class: str) -> _Table:
    """``_TRANSFORMERS_SUPPORTED_MODELS`` mixes kinds; the Transformers-backend class says which."""
    if "EmbeddingModel" in vllm_class:
        return TABLES[3]
    if "SequenceClassification" in vllm_class:
        return TABLES[5]
    if "MultiModal" in vllm_class:
        return TABLES[1]
    return TABLES[0]


@dataclass(frozen=True)
class _ClassFlags:
    pp: bool | None
    lora: bool | None
    multimodal: bool | None
    transcription: bool | None
    transcription_only: bool


def _flag(ancestry: Ancestry, interface: str, attribute: str, declared: frozenset[str]) -> bool | None:
    """True/False from the class's bases; None if a base is unknown or the release has no such interface."""
    for found in ancestry.classes:
        value = class_attribute(found, attribute)
        if isinstance(value, bool):
            return value
    if interface in ancestry.names:
        return True
    return False if ancestry.complete and interface in declared else None


def _lora(ancestry: Ancestry, declared: frozenset[str]) -> bool | None:
    if "SupportsLoRA" in declared:
        return _flag(ancestry, "SupportsLoRA", "supports_lora", declared)
    # Before the interfaces (0.5.0): a model supports LoRA by listing `supported_lora_modules`.
    listed = any(
        isinstance(node, ast.Assign | ast.AnnAssign)
        and any(isinstance(t, ast.Name) and t.id == "supported_lora_modules" for t in _targets(node))
        for c in ancestry.classes
        for node in c.node.body
    )
    return True if listed else None


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _class_flags(index: ClassIndex, found: FoundClass | None, declared: frozenset[str]) -> _ClassFlags:
    if found is None:
        return _ClassFlags(None, None, None, None, transcription_only=False)
    ancestry = index.ancestry(found)
    only = any(class_attribute(c, "supports_transcription_only") is True for c in ancestry.classes)
    return _ClassFlags(
        pp=_flag(ancestry, "SupportsPP", "supports_pp", declared),
        lora=_lora(ancestry, declared),
        multimodal=_flag(ancestry, "SupportsMultiModal", "supports_multimodal", declared),
        transcription=_flag(ancestry, "SupportsTranscription", "supports_transcription", declared),
        transcription_only=only,
    )


def _interfaces(index: ClassIndex) -> frozenset[str]:
    """The ``Supports*`` interfaces the release defines (none before 0.5.1)."""
    module = index.module(INTERFACES)
    return frozenset(module.classes) if module is not None else frozenset()


def _model_module(module: str) -> str:
    return module if "." in module else f"{_MODELS_PACKAGE}.{module}"


def _entries(registry: pysource.Module, table: _Table) -> dict[str, tuple[str, str]]:
    try:
        value = registry.named(table.name)
    except pysource.NotLiteral as exc:
        raise ReleaseImportError(f"{registry.path}: `{table.name}` is not a literal table ({exc})") from exc
    if not isinstance(value, dict):
        raise ReleaseImportError(f"{registry.path}: `{table.name}` is not a dict")
    out: dict[str, tuple[str, str]] = {}
    for arch, target in value.items():
        if not (isinstance(arch, str) and isinstance(target, tuple) and len(target) == 2):
            raise ReleaseImportError(f"{registry.path}: `{table.name}[{arch!r}]` is not (module, class)")
        module, cls = target
        if not (isinstance(module, str) and isinstance(cls, str)):
            raise ReleaseImportError(f"{registry.path}: `{table.name}[{arch!r}]` is not (module, class)")
        out[arch] = (module, cls)
    return out


def _architectures(tree: ReleaseTree, registry: pysource.Module, version: str) -> list[ArchitectureFact]:
    index = ClassIndex(tree, in_release=lambda dotted: dotted.split(".", 1)[0] == "vllm")
    declared = _interfaces(index)
    tables = [t for t in TABLES if t.name in registry.assignments]
    if not any(t.name in ("_TEXT_GENERATION_MODELS", "_GENERATION_MODELS") for t in tables):
        raise ReleaseImportError(f"{tree.artifact}: {registry.path} has no `_TEXT_GENERATION_MODELS`")
    facts: dict[str, ArchitectureFact] = {}
    flags_of: dict[tuple[str, str], _ClassFlags] = {}
    for listed in tables:
        for arch, (module, cls) in _entries(registry, listed).items():
            table = _transformers_table(cls) if listed.name == "_TRANSFORMERS_SUPPORTED_MODELS" else listed
            source = SourceRef(tree.artifact, version, registry.path, f"{listed.name}[{arch!r}]")
            key = (_model_module(module), cls)
            if key not in flags_of:
                flags_of[key] = _class_flags(index, index.find(*key), declared)
            flags = flags_of[key]
            endpoints = table.endpoints
            task = table.task
            if flags.transcription:
                endpoints = (*endpoints, Endpoint.TRANSCRIPTION.value)
                if flags.transcription_only:
                    endpoints, task = (Endpoint.TRANSCRIPTION.value,), "transcription"
            fact = ArchitectureFact(
                class_name=arch,
                endpoints=endpoints,
                task=task,
                supports_pipeline_parallelism=flags.pp,
                supports_lora=flags.lora,
                multimodal=table.multimodal or bool(flags.multimodal),
                gguf_architecture=None,
                source=source,
            )
            earlier = facts.get(arch)
            if earlier is None:
                facts[arch] = fact
            else:
                merged = tuple(dict.fromkeys((*earlier.endpoints, *fact.endpoints)))
                facts[arch] = replace(
                    earlier,
                    endpoints=merged,
                    multimodal=earlier.multimodal or fact.multimodal,
                    other_sources=(*earlier.other_sources, source),
                )
    return [replace(f, endpoints=_ordered(f.endpoints)) for f in facts.values()]


def _ordered(endpoints: tuple[str, ...]) -> tuple[str, ...]:
    order = [e.value for e in Endpoint]
    return tuple(sorted(set(endpoints), key=order.index))


def _dropped(tree: ReleaseTree, registry: pysource.Module, version: str) -> list[DroppedArchitecture]:
    name = "_PREVIOUSLY_SUPPORTED_MODELS"
    if name not in registry.assignments:
        return []
    value = registry.named(name)
    if not isinstance(value, dict):
        raise ReleaseImportError(f"{registry.path}: `{name}` is not a dict")
    return [
        DroppedArchitecture(
            class_name=str(arch),
            source=SourceRef(tree.artifact, version, registry.path, f"{name}[{arch!r}]"),
            last_supported_version=last if isinstance(last, str) else None,
        )
        for arch, last in value.items()
    ]


def _supported_list(cls: ast.ClassDef) -> list[str] | None:
    """The class's literal ``supported_quantization = [...]``, if it declares one."""
    for node in cls.body:
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        named = isinstance(target, ast.Name) and target.id == "supported_quantization"
        if named and isinstance(value, ast.List | ast.Tuple):
            names = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(names) == len(value.elts):
                return names
    return None


def _platform_quantization(
    tree: ReleaseTree, version: str, accepted: list[QuantizationFact]
) -> list[QuantizationFact]:
    """The methods a non-CUDA platform allows: its class's ``supported_quantization`` list (vLLM's
    ``Platform.verify_quantization`` refuses any other). A platform with no list restricts nothing
    in that check but declares nothing either, so no fact is recorded for it. Only methods vLLM
    accepts at all count; the activation dtypes are the method config's, no compute capability
    applies."""
    by_method = {fact.method: fact for fact in accepted}
    facts: list[QuantizationFact] = []
    for path, device in PLATFORMS:
        module = pysource.parse(tree, path) if tree.exists(path) else None
        if module is None:
            continue
        for name, cls in module.classes.items():
            listed = _supported_list(cls)
            if listed is None:
                continue
            for method in dict.fromkeys(listed):
                if method in by_method:
                    facts.append(
                        QuantizationFact(
                            method=method,
                            device_architecture=device,
                            min_compute_capability=None,
                            activation_dtypes=by_method[method].activation_dtypes,
                            source=SourceRef(tree.artifact, version, path, f"{name}.supported_quantization"),
                        )
                    )
    return facts


def import_vllm(tree: ReleaseTree, version: str) -> ReleaseFacts:
    path = next((p for p in REGISTRIES if tree.exists(p)), REGISTRY)
    registry = pysource.parse(tree, path)
    if registry is None or not any(t.name in registry.assignments for t in TABLES):
        raise ReleaseImportError(f"{tree.artifact}: not a vLLM release ({REGISTRY} is absent)")
    architectures = _architectures(tree, registry, version)
    dropped = _dropped(tree, registry, version)
    quantization: list[QuantizationFact] = read_quantization(
        tree, QUANTIZATION, version, device=DeviceArchitecture.CUDA.value
    )
    quantization += _platform_quantization(tree, version, quantization)
    return ReleaseFacts(
        engine="vllm",
        version=version,
        artifact=tree.artifact,
        architectures=tuple(sorted(architectures, key=lambda f: f.class_name)),
        dropped=tuple(sorted(dropped, key=lambda d: d.class_name)),
        quantization=tuple(sorted(quantization, key=lambda q: (q.method, q.device_architecture))),
    )
