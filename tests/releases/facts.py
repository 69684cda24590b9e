"""Realistic release facts, built as an importer returns them (vLLM 0.8.0 and 0.8.5)."""

from __future__ import annotations

from typing import Any

from budgraph.releases.facts import (
    ArchitectureFact,
    DroppedArchitecture,
    QuantizationFact,
    ReleaseFacts,
    SourceRef,
)

REGISTRY = "vllm/model_executor/models/registry.py"
GENERATE = ("CHAT", "COMPLETION")


def _ref(version: str, symbol: str, file: str = REGISTRY) -> SourceRef:
    return SourceRef(artifact=f"vllm-{version}.tar.gz", version=version, file=file, symbol=symbol)


def _arch(
    version: str, name: str, table: str = "_TEXT_GENERATION_MODELS", **values: object
) -> ArchitectureFact:
    fields: dict[str, object] = {
        "endpoints": GENERATE,
        "task": "generate",
        "supports_pipeline_parallelism": True,
        "supports_lora": True,
        "multimodal": False,
        "gguf_architecture": None,
    }
    fields.update(values)
    return ArchitectureFact(class_name=name, source=_ref(version, f"{table}[{name!r}]"), **fields)  # type: ignore[arg-type]


def _quant(version: str, method: str, capability: str | None, module: str, cls: str) -> QuantizationFact:
    return QuantizationFact(
        method=method,
        device_architecture="CUDA",
        min_compute_capability=capability,
        activation_dtypes=("bfloat16", "float16"),
        source=_ref(
            version, f"{cls}.get_min_capability", f"vllm/model_executor/layers/quantization/{module}.py"
        ),
    )


def vllm(version: str = "0.8.0", *, with_mamba: bool = False, drop_mpt: bool = False) -> ReleaseFacts:
    archs = [
        _arch(version, "LlamaForCausalLM"),
        _arch(version, "Qwen2ForCausalLM"),
        _arch(version, "MixtralForCausalLM"),
        _arch(
            version,
            "Qwen2VLForConditionalGeneration",
            "_MULTIMODAL_MODELS",
            task="multimodal",
            multimodal=True,
            supports_lora=None,
        ),
        _arch(
            version,
            "BertModel",
            "_EMBEDDING_MODELS",
            task="embedding",
            endpoints=("EMBEDDING",),
            supports_pipeline_parallelism=False,
            supports_lora=None,
        ),
    ]
    if with_mamba:
        archs.append(_arch(version, "MambaForCausalLM", supports_lora=False))
    if not drop_mpt:
        archs.append(_arch(version, "MPTForCausalLM", supports_lora=False))
    dropped = (
        [
            DroppedArchitecture(
                "MPTForCausalLM", _ref(version, "_PREVIOUSLY_SUPPORTED_MODELS['MPTForCausalLM']")
            )
        ]
        if drop_mpt
        else []
    )
    return ReleaseFacts(
        engine="vllm",
        version=version,
        artifact=f"vllm-{version}.tar.gz",
        architectures=tuple(archs),
        dropped=tuple(dropped),
        quantization=(
            _quant(version, "awq", "7.5", "awq", "AWQConfig"),
            _quant(version, "fp8", "8.9", "fp8", "Fp8Config"),
            _quant(version, "gptq", "6.0", "gptq", "GPTQConfig"),
            QuantizationFact(
                method="gguf",
                device_architecture="CUDA",
                min_compute_capability="6.0",
                activation_dtypes=("bfloat16", "float16", "float32"),
                source=_ref(
                    version,
                    "GGUFConfig.get_min_capability",
                    "vllm/model_executor/layers/quantization/gguf.py",
                ),
            ),
            QuantizationFact(
                method="fp8",
                device_architecture="ROCM",
                min_compute_capability=None,
                activation_dtypes=("bfloat16", "float16"),
                source=_ref(
                    version, "Fp8Config.get_min_capability", "vllm/model_executor/layers/quantization/fp8.py"
                ),
            ),
        ),
    )


async def given_vllm_builds(session: Any) -> dict[str, Any]:
    """vLLM 0.8.0 recorded and packaged by a CUDA and a ROCm build; an A100 (8.0), an H100 (9.0) and
    an MI300X; the rows committed (the caller's session is the test's)."""
    from budgraph import db
    from budgraph.releases import service
    from tests import factories

    engine = await factories.engine(session, "vllm")
    cuda = await factories.version(session, engine, "0.8.0", "CUDA")
    rocm = await factories.version(session, engine, "0.8.0", "ROCM")
    hardware = {
        "a100": await factories.hardware(session, "nvidia-a100-80gb", compute_capability="8.0"),
        "h100": await factories.hardware(session, "nvidia-h100-80gb", compute_capability="9.0"),
        "mi300x": await factories.hardware(session, "amd-mi300x", device="ROCM", vendor="amd"),
    }
    record = await service.record_release(session, vllm("0.8.0"))
    for version in (cuda, rocm):
        await service.apply_release(session, version, record.release)
    await session.commit()
    return {"engine": engine, "cuda": cuda, "rocm": rocm, "release": record.release, **hardware, "db": db}
