"""KV-cache size per token: what serving one more token of context costs in accelerator memory.

* multi-head attention: ``2 (K and V) * layers * heads * head_dim * bytes``
* grouped-query / multi-query attention: the same with ``num_key_value_heads``
* multi-head latent attention (DeepSeek-V2/V3): one compressed latent plus the decoupled RoPE key per
  layer, ``layers * (kv_lora_rank + qk_rope_head_dim) * bytes``

Sliding-window layers cost the same per token but stop growing past the window.
"""

from __future__ import annotations

from dataclasses import dataclass

DTYPE_BYTES = {
    "float64": 8, "double": 8, "float32": 4, "float": 4, "tf32": 4,
    "float16": 2, "half": 2, "fp16": 2, "bfloat16": 2, "bf16": 2,
    "float8_e4m3fn": 1, "float8_e5m2": 1, "float8_e4m3fnuz": 1, "fp8": 1, "fp8_e4m3": 1,
    "int8": 1, "uint8": 1,
}  # fmt: skip
DEFAULT_DTYPE_BYTES = 2


def dtype_bytes(dtype: str | None) -> int | None:
    """Bytes per element of a torch dtype name ("bfloat16", "torch.float16"), ``None`` if unknown."""
    if not dtype:
        return None
    return DTYPE_BYTES.get(dtype.lower().removeprefix("torch."))


@dataclass(frozen=True)
class KvCacheEstimate:
    bytes_per_token: int
    kind: str  # "mha", "gqa", "mqa" or "mla"
    dtype_bytes: int
    layers: int
    sliding_window: int | None = None
    sliding_window_layers: int | None = None

    def bytes_for(self, tokens: int) -> int:
        """The cache of one sequence of ``tokens`` tokens, sliding-window layers capped at the window."""
        if not self.sliding_window or not self.sliding_window_layers:
            return self.bytes_per_token * tokens
        per_layer = self.bytes_per_token // self.layers
        full_layers = self.layers - self.sliding_window_layers
        capped = min(tokens, self.sliding_window)
        return per_layer * (full_layers * tokens + self.sliding_window_layers * capped)


def kv_cache_estimate(
    *,
    layers: int | None,
    attention_heads: int | None,
    head_dim: int | None,
    kv_heads: int | None = None,
    kv_lora_rank: int | None = None,
    qk_rope_head_dim: int | None = None,
    element_bytes: int = DEFAULT_DTYPE_BYTES,
    sliding_window: int | None = None,
    sliding_window_layers: int | None = None,
) -> KvCacheEstimate | None:
    """The estimate, or ``None`` when the config lacks what the formula needs."""
    if not layers:
        return None
    window = {"sliding_window": sliding_window, "sliding_window_layers": sliding_window_layers}
    if kv_lora_rank:
        per_layer = kv_lora_rank + (qk_rope_head_dim or 0)
        return KvCacheEstimate(layers * per_layer * element_bytes, "mla", element_bytes, layers, **window)
    if not attention_heads or not head_dim:
        return None
    heads = kv_heads or attention_heads
    kind = "mha" if heads == attention_heads else "mqa" if heads == 1 else "gqa"
    return KvCacheEstimate(
        2 * layers * heads * head_dim * element_bytes, kind, element_bytes, layers, **window
    )
