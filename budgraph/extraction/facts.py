"""What extraction found out about a model, and where each fact came from.

Field names follow the columns of ``budgraph.db.catalog.Model`` so that storing the facts is a plain copy.
Every fact is optional: ``None`` means "not stated by any file we read", never "zero" or "empty".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ExtractedFacts:
    # Identity
    model_type: str | None = None
    architecture: str | None = None
    architectures: list[str] | None = None
    modality: str | None = None
    revision: str | None = None
    gated: bool | None = None
    # Size, from the safetensors headers
    parameter_count: int | None = None
    active_parameter_count: int | None = None
    weight_bytes: int | None = None
    # Shape, from config.json
    context_length: int | None = None
    layers: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    attention_heads: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    dtype: str | None = None
    sliding_window: int | None = None
    sliding_window_layers: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    experts_total: int | None = None
    experts_active: int | None = None
    quantization_method: str | None = None
    quantization_bits: int | None = None
    kv_cache_bytes_per_token: int | None = None
    # Model card (README.md front matter); licences are raw strings, resolved by the caller
    licenses: list[str] | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_models: list[str] | None = None
    languages: list[str] | None = None
    datasets: list[str] | None = None
    tags: list[str] | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    # Bookkeeping
    provenance: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def license(self) -> str | None:
        """The card's licence identifier (the first one when the card lists several)."""
        return self.licenses[0] if self.licenses else None

    def record(self, name: str, value: Any, source: str) -> None:
        """Set fact ``name`` to ``value`` (ignored when ``None``), with ``source`` as its provenance."""
        _check_fact_name(name)
        if value is None:
            return
        setattr(self, name, value)
        self.provenance[name] = source

    def clear(self, name: str) -> None:
        """Forget fact ``name`` (and its provenance)."""
        _check_fact_name(name)
        setattr(self, name, None)
        self.provenance.pop(name, None)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for a job's ``result`` column)."""
        return asdict(self)


_FACT_NAMES = frozenset(f.name for f in fields(ExtractedFacts)) - {"provenance", "warnings"}


def _check_fact_name(name: str) -> None:
    if name not in _FACT_NAMES:
        raise AttributeError(f"ExtractedFacts has no fact {name!r}")
