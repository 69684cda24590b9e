"""llama.cpp (as vendored by the ``llama_cpp_python`` sdist): what ``convert_hf_to_gguf`` can convert.

Each converter class is registered for Hugging Face architectures with ``@ModelBase.register("A", ...)``
(older trees: ``@Model.register``) and names its GGUF architecture with ``model_arch =
gguf.MODEL_ARCH.X`` (or inherits it); ``gguf-py/gguf/constants.py`` ``MODEL_ARCH_NAMES`` gives the name
written into the file. An architecture also registered for a ``MODEL_ARCH.MMPROJ`` class has a vision or
audio projector: multimodal. A converter that always writes non-causal attention
(``add_causal_attention(False)``) and a pooling type (``add_pooling_type`` / ``_try_set_pooling_type``),
and no diffusion parameter (``add_mask_token_id``, ``add_diffusion_shift_logits``: Dream and LLaDA are
non-causal generators), makes an embedding model (``/v1/embeddings``); others serve chat and completion.
GGUF runs on each ggml backend the tree builds (``ggml/src/ggml-cuda``, ``ggml-hip``, ``ggml-cpu``).
"""

from __future__ import annotations

import ast

from budgraph.db.enums import DeviceArchitecture, Endpoint
from budgraph.releases import pysource
from budgraph.releases.classes import ClassIndex, FoundClass
from budgraph.releases.errors import ReleaseImportError
from budgraph.releases.facts import ArchitectureFact, QuantizationFact, ReleaseFacts, SourceRef
from budgraph.releases.tree import ReleaseTree

VENDORED = "vendor/llama.cpp/"
CONVERTER = "convert_hf_to_gguf.py"
CONVERSION = "conversion"
CONSTANTS = "gguf-py/gguf/constants.py"
_BACKENDS = {
    "ggml-cuda": DeviceArchitecture.CUDA.value,
    "ggml-hip": DeviceArchitecture.ROCM.value,
    "ggml-cpu": DeviceArchitecture.CPU.value,
}
_BASES = frozenset({"ModelBase", "Model"})
_MMPROJ = "MMPROJ"
_GENERIC_BASES = frozenset({"ModelBase", "TextModel", "Model"})
_POOLING_CALLS = frozenset({"add_pooling_type", "_try_set_pooling_type"})
_DIFFUSION_CALLS = frozenset({"add_mask_token_id", "add_diffusion_shift_logits"})


def _registered(cls: ast.ClassDef) -> list[str]:
    names: list[str] = []
    for decorator in cls.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        target = pysource.dotted_name(decorator.func) or ""
        owner, _, method = target.rpartition(".")
        if method == "register" and owner in _BASES:
            names.extend(
                a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return names


def _model_arch(index: ClassIndex, found: FoundClass) -> str | None:
    for cls in index.ancestry(found).classes:
        for node in cls.node.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "model_arch"
            ):
                dotted = pysource.dotted_name(node.value) or ""
                if dotted.startswith("gguf.MODEL_ARCH.") or dotted.startswith("MODEL_ARCH."):
                    return dotted.rsplit(".", 1)[-1]
                return None
    return None


def _converter_calls(index: ClassIndex, found: FoundClass) -> tuple[set[str], set[str]]:
    """The calls a converter's methods (and its bases', short of the generic ones) always make, and all."""
    always: set[str] = set()
    anywhere: set[str] = set()
    for cls in index.ancestry(found).classes:
        if cls.node.name in _GENERIC_BASES:
            continue
        for function in pysource.methods(cls.node):
            for statement in function.body:  # top level only: a conditional call is not "always"
                call = statement.value if isinstance(statement, ast.Expr) else None
                if isinstance(call, ast.Call) and (name := _call_name(call)) is not None:
                    always.add(name)
            anywhere.update(
                name
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and (name := _call_name(node))
            )
    return always, anywhere


def _call_name(call: ast.Call) -> str | None:
    dotted = pysource.dotted_name(call.func)
    if dotted is None:
        return None
    name = dotted.rsplit(".", 1)[-1]
    if name == "add_causal_attention":
        value = call.args[0] if len(call.args) == 1 else None
        return f"add_causal_attention({value.value!s})" if isinstance(value, ast.Constant) else None
    return name


def _is_embedding(index: ClassIndex, found: FoundClass) -> bool:
    always, anywhere = _converter_calls(index, found)
    return (
        "add_causal_attention(False)" in always
        and bool(always & _POOLING_CALLS)
        and not anywhere & _DIFFUSION_CALLS
    )


def _arch_names(tree: ReleaseTree) -> dict[str, str]:
    module = pysource.parse(tree, CONSTANTS)
    if module is None:
        raise ReleaseImportError(f"{tree.artifact}: {VENDORED}{CONSTANTS} is absent")
    node = module.assignments.get("MODEL_ARCH_NAMES")
    if not isinstance(node, ast.Dict):
        raise ReleaseImportError(f"{VENDORED}{CONSTANTS}: `MODEL_ARCH_NAMES` is not a literal dict")
    names: dict[str, str] = {}
    for key, value in zip(node.keys, node.values, strict=True):
        dotted = pysource.dotted_name(key) if key is not None else None
        if dotted and isinstance(value, ast.Constant) and isinstance(value.value, str):
            names[dotted.rsplit(".", 1)[-1]] = value.value
    return names


def _converter_files(tree: ReleaseTree) -> list[str]:
    files = [p for p in tree.files_in(CONVERSION) if p.endswith(".py")]
    return [CONVERTER, *files] if tree.exists(CONVERTER) else files


def _architectures(tree: ReleaseTree, artifact: str, version: str) -> list[ArchitectureFact]:
    index = ClassIndex(
        tree, in_release=lambda dotted: dotted.split(".", 1)[0] in (CONVERSION, "convert_hf_to_gguf")
    )
    arch_names = _arch_names(tree)
    text: dict[str, tuple[FoundClass, str]] = {}
    projector: set[str] = set()
    for path in _converter_files(tree):
        module = index.module(path)
        if module is None:
            continue
        for cls in module.classes.values():
            for hf_name in _registered(cls):
                found = FoundClass(module, cls)
                arch = _model_arch(index, found)
                if arch == _MMPROJ:
                    projector.add(hf_name)
                elif arch is not None:
                    text[hf_name] = (found, arch)  # a later registration wins, as in ModelBase.register
    facts: list[ArchitectureFact] = []
    for hf_name, (found, arch) in text.items():
        embedding = _is_embedding(index, found)
        multimodal = hf_name in projector
        facts.append(
            ArchitectureFact(
                class_name=hf_name,
                endpoints=(Endpoint.EMBEDDING.value,)
                if embedding
                else (Endpoint.CHAT.value, Endpoint.COMPLETION.value),
                task="embedding" if embedding else ("multimodal" if multimodal else "generate"),
                supports_pipeline_parallelism=None,
                supports_lora=None,
                multimodal=multimodal,
                gguf_architecture=arch_names.get(arch),
                source=SourceRef(
                    artifact,
                    version,
                    VENDORED + found.module.path,
                    f"{found.node.name}.register({hf_name!r})",
                ),
            )
        )
    return facts


def _quantization(tree: ReleaseTree, artifact: str, version: str) -> list[QuantizationFact]:
    present = set(tree.folders("ggml/src"))
    facts: list[QuantizationFact] = []
    for folder, device in _BACKENDS.items():
        if folder in present:
            evidence = f"ggml/src/{folder}/CMakeLists.txt"
            if tree.read(evidence) is None:
                continue
            facts.append(
                QuantizationFact(
                    "gguf",
                    device,
                    None,
                    (),
                    SourceRef(artifact, version, VENDORED + evidence, f"{folder} backend"),
                )
            )
    return facts


def import_llamacpp(tree: ReleaseTree, version: str) -> ReleaseFacts:
    if not (
        tree.exists(VENDORED + CONSTANTS)
        and (tree.exists(VENDORED + CONVERTER) or tree.files_in(VENDORED + CONVERSION))
    ):
        raise ReleaseImportError(
            f"{tree.artifact}: not a llama-cpp-python release "
            f"({VENDORED}{CONVERTER} or {VENDORED}{CONSTANTS} is absent)"
        )
    vendored = tree.subtree(VENDORED)
    architectures = _architectures(vendored, tree.artifact, version)
    quantization = _quantization(vendored, tree.artifact, version)
    return ReleaseFacts(
        engine="llamacpp",
        version=version,
        artifact=tree.artifact,
        architectures=tuple(sorted(architectures, key=lambda f: f.class_name)),
        dropped=(),
        quantization=tuple(sorted(quantization, key=lambda q: (q.method, q.device_architecture))),
    )
