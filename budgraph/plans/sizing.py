"""The two numbers a deployment's memory rests on: the bytes of the weights in a given format, and the
KV-cache bytes one token of context takes in a given cache dtype."""

from __future__ import annotations

import math
from dataclasses import dataclass

from budgraph.extraction.kv_cache import DEFAULT_DTYPE_BYTES, KvCacheEstimate, dtype_bytes, kv_cache_estimate
from budgraph.models.shape import ModelShape
from budgraph.plans.formats import FORMATS

EMBEDDING_BYTES = 2  # engines keep the input embedding in 16 bits whatever the linear layers use


class NotSized(Exception):
    """Why a plan cannot be sized (a sentence for the plan's reasons)."""


@dataclass(frozen=True)
class WeightSize:
    bytes: int
    exact: bool  # the safetensors headers' bytes, not an estimate from the parameter count
    formula: str
    active_fraction: float = 1.0  # of the weights read per generated token (mixture of experts: < 1)

    @property
    def active_bytes(self) -> int:
        return round(self.bytes * self.active_fraction)


def _gb(value: float) -> str:
    return f"{value / 1e9:,.1f} GB"


def _active_fraction(shape: ModelShape) -> float:
    total, active = shape.parameter_count, shape.active_parameter_count
    if total and active and 0 < active < total:
        return active / total
    return 1.0


def weight_size(shape: ModelShape, method: str | None) -> WeightSize:
    """The weights' bytes in ``method`` (None: as stored). Raises ``NotSized`` with the reason."""
    stored = shape.quantization_method
    active = _active_fraction(shape)
    if method == stored:
        if shape.weight_bytes:
            where = shape.source_of("weight_bytes") or "the safetensors headers"
            return WeightSize(shape.weight_bytes, True, f"{_gb(shape.weight_bytes)} from {where}", active)
        element = dtype_bytes(shape.dtype)
        if stored is None and shape.parameter_count and element:
            size = shape.parameter_count * element
            formula = f"{shape.parameter_count:,} parameters x {element} bytes ({shape.dtype})"
            return WeightSize(size, False, formula, active)
        raise NotSized("the size of the model's weights is not known yet (extract the model first)")
    if stored is not None:
        raise NotSized(
            f"the model is stored quantized with {stored}; it cannot be planned as {method or 'unquantized'}"
        )
    assert method is not None
    found = FORMATS.get(method)
    if found is None:
        raise NotSized(
            f"{method} weights are as wide as the checkpoint makes them: plan a model stored in {method}"
        )
    if not shape.parameter_count:
        raise NotSized("the model's parameter count is not known yet (extract the model first)")
    embedding = (shape.vocab_size or 0) * (shape.hidden_size or 0)
    if embedding >= shape.parameter_count:
        embedding = 0
    quantized = shape.parameter_count - embedding
    size = math.ceil(quantized * found.bits_per_weight / 8) + embedding * EMBEDDING_BYTES
    formula = f"{quantized:,} parameters x {found.bits_per_weight:g} bits ({found.formula})"
    if embedding:
        formula += f" + the {embedding:,}-parameter embedding x {EMBEDDING_BYTES} bytes"
    return WeightSize(size, False, formula, active)


@dataclass(frozen=True)
class KvCacheSize:
    estimate: KvCacheEstimate
    formula: str

    @property
    def bytes_per_token(self) -> int:
        return self.estimate.bytes_per_token


def kv_cache_size(shape: ModelShape, cache_dtype: str | None) -> KvCacheSize:
    """Bytes per token of context in ``cache_dtype`` (None: the weights' dtype). Raises ``NotSized``."""
    element = dtype_bytes(cache_dtype) if cache_dtype else dtype_bytes(shape.dtype) or DEFAULT_DTYPE_BYTES
    assert element is not None, f"unknown cache dtype {cache_dtype}"
    head_dim = shape.head_dim
    if head_dim is None and shape.hidden_size and shape.attention_heads and not shape.kv_lora_rank:
        head_dim = shape.hidden_size // shape.attention_heads
    estimate = kv_cache_estimate(
        layers=shape.layers,
        attention_heads=shape.attention_heads,
        head_dim=head_dim,
        kv_heads=shape.kv_heads,
        kv_lora_rank=shape.kv_lora_rank,
        qk_rope_head_dim=shape.qk_rope_head_dim,
        element_bytes=element,
        sliding_window=shape.sliding_window,
        sliding_window_layers=shape.sliding_window_layers,
    )
    if estimate is None:
        raise NotSized(
            "the model's attention shape is not known yet (layers, heads: extract the model first)"
        )
    if estimate.kind == "mla":
        formula = (
            f"{estimate.layers} layers x ({shape.kv_lora_rank} latent + {shape.qk_rope_head_dim or 0} rotary)"
            f" x {element} bytes"
        )
    else:
        heads = shape.kv_heads or shape.attention_heads
        formula = f"2 (K, V) x {estimate.layers} layers x {heads} KV heads x {head_dim} x {element} bytes"
    if estimate.sliding_window and estimate.sliding_window_layers:
        formula += (
            f"; {estimate.sliding_window_layers} layers stop growing at their"
            f" {estimate.sliding_window:,}-token window"
        )
    return KvCacheSize(estimate, formula)
