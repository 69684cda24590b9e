"""config.json: load it the way transformers would (without remote code), then read the shape facts.

A value stated in the raw JSON wins (an explicit ``null`` included); a value only the transformers config
class supplies is recorded with a "transformers default" provenance.
"""

from __future__ import annotations

import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budgraph.extraction.errors import ExtractionFailed
from budgraph.extraction.facts import ExtractedFacts
from budgraph.extraction.quantization import quantization_facts

# Sub-configs holding the language model of multimodal models (Llava, InternVL, DeepSeek-VL...).
TEXT_CONFIG_KEYS = ("text_config", "llm_config", "language_config")
CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "max_sequence_length",
    "n_ctx",
    "max_target_positions",
)
SHAPE_KEYS: dict[str, tuple[str, ...]] = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model", "dim"),
    "intermediate_size": ("intermediate_size", "n_inner", "ffn_dim", "d_ff"),
    "attention_heads": ("num_attention_heads", "n_head", "num_heads", "n_heads"),
    "kv_heads": ("num_key_value_heads", "num_kv_heads", "n_kv_heads", "multi_query_group_num"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "experts_total": ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"),
    "experts_active": ("num_experts_per_tok", "num_selected_experts", "moe_top_k"),
}
# transformers resolves its names lazily (``_LazyModule``), and so does ``AutoConfig`` with the config
# class of each model type: two threads doing either for the first time at once see a half-imported
# module ("cannot import name 'AutoConfig' from 'transformers'"). Jobs read configs in threads, so
# loading one is serialised; it is a few milliseconds of pure Python once the first import is done.
_TRANSFORMERS = threading.Lock()


@dataclass(frozen=True)
class LoadedConfig:
    raw: dict[str, Any]
    resolved: dict[str, Any]
    class_name: str | None  # the transformers config class, None when read as plain JSON

    def section(self, key: str | None) -> LoadedConfig:
        """The sub-config ``key`` (e.g. text_config) as its own LoadedConfig; ``None`` is this one."""
        if key is None:
            return self
        raw, resolved = self.raw.get(key), self.resolved.get(key)
        return LoadedConfig(
            raw if isinstance(raw, dict) else {},
            resolved if isinstance(resolved, dict) else {},
            self.class_name,
        )

    def pick(self, keys: tuple[str, ...], prefix: str = "") -> tuple[Any, str | None]:
        """The first of ``keys`` stated in config.json, else the first transformers supplies."""
        for key in keys:
            if key in self.raw:
                return self.raw[key], f"config.json:{prefix}{key}"
        for key in keys:
            if self.resolved.get(key) is not None:
                return self.resolved[key], f"transformers {self.class_name} default:{prefix}{key}"
        return None, None


def load_config(data: bytes, warnings: list[str]) -> LoadedConfig:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExtractionFailed(f"config.json is not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ExtractionFailed("config.json is not a JSON object")
    with tempfile.TemporaryDirectory(prefix="budgraph-config-") as folder:
        Path(folder, "config.json").write_bytes(data)
        with _TRANSFORMERS:
            from transformers import AutoConfig  # heavy import, only when a config is read

            try:
                config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
            except Exception as error:  # remote code, unknown model_type, or transformers' validation
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                reason = reason.replace(folder, "the repository")  # our temporary folder means nothing
                warnings.append(f"config.json read as plain JSON: transformers cannot load it ({reason})")
                return LoadedConfig(raw, raw, None)
            resolved = config.to_dict()
    return LoadedConfig(raw, resolved, type(config).__name__)


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def text_section(config: LoadedConfig) -> tuple[LoadedConfig, str | None]:
    for key in TEXT_CONFIG_KEYS:
        if isinstance(config.raw.get(key), dict) or isinstance(config.resolved.get(key), dict):
            return config.section(key), key
    return config, None


def config_facts(config: LoadedConfig, facts: ExtractedFacts) -> None:
    """Record architecture and shape facts of ``config`` into ``facts``."""
    architectures, source = config.pick(("architectures",))
    if isinstance(architectures, list) and architectures:
        facts.record("architectures", [str(a) for a in architectures], source or "")
        facts.record("architecture", str(architectures[0]), source or "")
    model_type, source = config.pick(("model_type",))
    if isinstance(model_type, str) and model_type:
        facts.record("model_type", model_type, source or "")

    text, key = text_section(config)
    prefix = f"{key}." if key else ""
    sections = [(text, prefix), (config, "")] if key else [(config, "")]

    def pick_int(keys: tuple[str, ...]) -> tuple[int | None, str | None]:
        for section, section_prefix in sections:
            value, where = section.pick(keys, section_prefix)
            if where is not None:
                return _positive_int(value), where
        return None, None

    for fact, keys in SHAPE_KEYS.items():
        value, where = pick_int(keys)
        facts.record(fact, value, where or "")
    if facts.experts_total is None or facts.experts_total < 2:  # dense: any "experts per token" is moot
        facts.clear("experts_total")
        facts.clear("experts_active")
    if facts.kv_heads is None and text.pick(("multi_query",))[0] is True:
        facts.record("kv_heads", 1, f"config.json:{prefix}multi_query")
    context, where = pick_int(CONTEXT_KEYS)
    facts.record("context_length", context, where or "")

    _attention_facts(text, prefix, facts)
    dtype, where = pick_dtype(sections)
    facts.record("dtype", dtype, where or "")
    quantization_facts(config.raw.get("quantization_config") or text.raw.get("quantization_config"), facts)
    if facts.quantization_method is None:
        quantization_facts(config.raw.get("compression_config"), facts)


def pick_dtype(sections: list[tuple[LoadedConfig, str]]) -> tuple[str | None, str | None]:
    for section, prefix in sections:
        value, where = section.pick(("torch_dtype", "dtype"), prefix)
        if isinstance(value, str) and value:
            return value.removeprefix("torch."), where
    return None, None


def _attention_facts(text: LoadedConfig, prefix: str, facts: ExtractedFacts) -> None:
    rank, rank_where = text.pick(("kv_lora_rank",), prefix)
    kv_lora_rank = _positive_int(rank)
    if kv_lora_rank is not None:
        facts.record("kv_lora_rank", kv_lora_rank, rank_where or "")
        rope, where = text.pick(("qk_rope_head_dim",), prefix)
        facts.record("qk_rope_head_dim", _positive_int(rope), where or "")

    head_dim, where = (text.raw.get("head_dim"), f"config.json:{prefix}head_dim")
    if _positive_int(head_dim) is None and kv_lora_rank is not None:
        nope, rope = text.pick(("qk_nope_head_dim",))[0], text.pick(("qk_rope_head_dim",))[0]
        if _positive_int(nope) and _positive_int(rope):
            head_dim, where = nope + rope, f"config.json:{prefix}qk_nope_head_dim + qk_rope_head_dim"
    if _positive_int(head_dim) is None:
        head_dim, where = text.pick(("head_dim",), prefix)
    hidden, heads = facts.hidden_size, facts.attention_heads
    if _positive_int(head_dim) is None and hidden and heads and hidden % heads == 0:
        head_dim, where = hidden // heads, f"{facts.provenance['hidden_size']} / num_attention_heads"
    facts.record("head_dim", _positive_int(head_dim), where or "")

    _sliding_window_facts(text, prefix, facts)


def _sliding_window_facts(text: LoadedConfig, prefix: str, facts: ExtractedFacts) -> None:
    window, where = text.pick(("sliding_window",), prefix)
    if text.pick(("use_sliding_window",))[0] is False or _positive_int(window) is None:
        return
    facts.record("sliding_window", window, where or "")
    layer_types, types_where = text.pick(("layer_types",), prefix)
    if isinstance(layer_types, list) and layer_types:
        count = sum(1 for kind in layer_types if kind == "sliding_attention")
        if count == 0:  # every layer attends fully: the window is never applied
            facts.clear("sliding_window")
            return
        facts.record("sliding_window_layers", count, types_where or "")
    elif facts.layers is not None:
        first_full = _positive_int(text.pick(("max_window_layers",))[0])
        if first_full is not None and text.pick(("use_sliding_window",))[0] is True:  # Qwen2 style
            count = max(facts.layers - first_full, 0)
            facts.record("sliding_window_layers", count, f"config.json:{prefix}max_window_layers")
        else:
            facts.record("sliding_window_layers", facts.layers, f"{where} (applies to every layer)")
    if facts.context_length is not None and window >= facts.context_length:
        facts.warn(f"sliding_window {window} is not smaller than the context length {facts.context_length}")
