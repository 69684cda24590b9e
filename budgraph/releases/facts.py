"""What an importer reads from one upstream engine release (the importers' fixed interface)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceRef:
    artifact: str  # e.g. "vllm-0.8.0.tar.gz"
    version: str  # upstream release, e.g. "0.8.0"
    file: str  # path inside the release, e.g. "vllm/model_executor/models/registry.py"
    symbol: str  # e.g. "_TEXT_GENERATION_MODELS['LlamaForCausalLM']"


@dataclass(frozen=True)
class ArchitectureFact:
    class_name: str
    endpoints: tuple[str, ...]  # budgraph.db.enums.Endpoint values
    task: str  # "generate" | "multimodal" | "embedding" | "cross-encoder" | "transcription"
    supports_pipeline_parallelism: bool | None
    supports_lora: bool | None
    multimodal: bool
    gguf_architecture: str | None
    source: SourceRef


@dataclass(frozen=True)
class DroppedArchitecture:
    class_name: str
    source: SourceRef


@dataclass(frozen=True)
class QuantizationFact:
    method: str  # "fp8", "awq", "gptq", "compressed-tensors", "gguf", "bitsandbytes", "mxfp4", ...
    device_architecture: str  # DeviceArchitecture value
    min_compute_capability: str | None  # "8.9"
    activation_dtypes: tuple[str, ...]  # ("float16", "bfloat16")
    source: SourceRef


@dataclass(frozen=True)
class ReleaseFacts:
    engine: str  # engine slug: "vllm" | "sglang" | "llamacpp"
    version: str
    artifact: str
    architectures: tuple[ArchitectureFact, ...]
    dropped: tuple[DroppedArchitecture, ...]
    quantization: tuple[QuantizationFact, ...]
