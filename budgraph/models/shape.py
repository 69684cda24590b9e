"""What a deployment plan or a compatibility lookup needs to know of a model: its architecture, its
size and its attention shape, whether it is registered (a row of the registry) or only known from
its config files.

``ModelShape`` is one value for both: a registered model's columns, or the facts extraction reads
from a repository's ``config.json`` before the model is registered.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from budgraph import db
from budgraph.extraction.facts import ExtractedFacts
from budgraph.kit.db import AnyRow


@dataclass(frozen=True)
class ModelShape:
    uri: str
    registered: bool  # a registry row; otherwise read from the repository's files just now
    architecture: str | None = None
    parameter_count: int | None = None
    active_parameter_count: int | None = None
    weight_bytes: int | None = None
    dtype: str | None = None
    quantization_method: str | None = None
    quantization_bits: int | None = None
    context_length: int | None = None
    layers: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    attention_heads: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    sliding_window: int | None = None
    sliding_window_layers: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    experts_total: int | None = None
    experts_active: int | None = None
    kv_cache_bytes_per_token: int | None = None
    fact_sources: tuple[tuple[str, str], ...] = ()  # (fact, where it was read), as extraction records them

    @classmethod
    def from_row(cls, row: db.Model | AnyRow) -> ModelShape:
        """A registered model's shape."""
        values = {name: getattr(row, name) for name in _FACTS}
        sources = tuple(sorted(dict(row.fact_sources or {}).items()))
        return cls(uri=row.uri, registered=True, fact_sources=sources, **values)

    @classmethod
    def from_facts(cls, uri: str, facts: ExtractedFacts) -> ModelShape:
        """The shape of a model known only from its files (not registered)."""
        values = {name: getattr(facts, name) for name in _FACTS}
        return cls(uri=uri, registered=False, fact_sources=tuple(sorted(facts.provenance.items())), **values)

    def source_of(self, fact: str) -> str | None:
        """Where ``fact`` was read (e.g. ``config.json:num_key_value_heads``), if recorded."""
        return dict(self.fact_sources).get(fact)


_FACTS = tuple(f.name for f in fields(ModelShape) if f.name not in {"uri", "registered", "fact_sources"})
