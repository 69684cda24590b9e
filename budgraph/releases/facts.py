"""What an engine release's own code declares, as typed facts (no database here: the recorder stores them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceRef:
    """Where a fact was read: the artifact, the upstream release, the file inside it and the symbol."""

    artifact: str
    version: str
    file: str
    symbol: str


@dataclass(frozen=True)
class ArchitectureFact:
    """A Hugging Face architecture the release serves.

    ``endpoints`` are ``budgraph.db.enums.Endpoint`` values. ``task`` is how the engine's code classes the
    architecture: "generate", "multimodal", "embedding", "cross-encoder", "transcription", and where an
    engine has them "late-interaction", "classification", "reward", "token-classification". The flags
    are ``None`` when the release does not say (for vLLM: the model file was not read, or a base class
    could not be resolved). ``other_sources`` names the further registry entries of the same
    architecture (vLLM lists some in several tables; their endpoints are merged into this one fact).
    """

    class_name: str
    endpoints: tuple[str, ...]
    task: str
    supports_pipeline_parallelism: bool | None
    supports_lora: bool | None
    multimodal: bool
    gguf_architecture: str | None
    source: SourceRef
    other_sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class DroppedArchitecture:
    """An architecture the release says it no longer supports (vLLM's ``_PREVIOUSLY_SUPPORTED_MODELS``)."""

    class_name: str
    source: SourceRef
    last_supported_version: str | None = None


@dataclass(frozen=True)
class QuantizationFact:
    """A quantization method and what the release's code requires of the device for it.

    ``min_compute_capability`` is ``None`` when no constant minimum is declared (the method's value is
    computed, or the method has no config class the importer can read); ``source.symbol`` says which.
    """

    method: str
    device_architecture: str
    min_compute_capability: str | None
    activation_dtypes: tuple[str, ...]
    source: SourceRef


@dataclass(frozen=True)
class ReleaseFacts:
    """Everything one importer read from one release."""

    engine: str
    version: str
    artifact: str
    architectures: tuple[ArchitectureFact, ...]
    dropped: tuple[DroppedArchitecture, ...]
    quantization: tuple[QuantizationFact, ...]
