"""Find out what a model is from its metadata files and safetensors headers, never its weights."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from budgraph.db.enums import Modality
from budgraph.extraction.card import card_facts
from budgraph.extraction.config import LoadedConfig, config_facts, load_config
from budgraph.extraction.errors import ExtractionFailed, FileTooLarge
from budgraph.extraction.facts import ExtractedFacts
from budgraph.extraction.kv_cache import DEFAULT_DTYPE_BYTES, dtype_bytes, kv_cache_estimate
from budgraph.extraction.modality import ModalitySignals, infer_modality, is_encoder_only
from budgraph.extraction.parameters import count_parameters
from budgraph.extraction.quantization import quantization_facts
from budgraph.extraction.safetensors_headers import TensorInfo, find_weight_files, read_header
from budgraph.extraction.sources.base import ModelFiles, RemoteFile

Progress = Callable[[int, str], Awaitable[None]]
# Older GPTQ/AWQ checkpoints keep the quantization settings beside config.json.
LEGACY_QUANTIZATION_FILES = {"quantize_config.json": "gptq", "quant_config.json": "awq"}
SAFETENSORS_DTYPES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32", "F64": "float64"}
SAFETENSORS_DTYPES |= {"F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
KV_FORMULAS = {
    "mha": "2 x layers x attention heads x head_dim x {bytes} bytes",
    "gqa": "2 x layers x key-value heads x head_dim x {bytes} bytes",
    "mqa": "2 x layers x 1 key-value head x head_dim x {bytes} bytes",
    "mla": "layers x (kv_lora_rank + qk_rope_head_dim) x {bytes} bytes",
}


async def _nothing(percent: int, step: str) -> None:
    return None


async def extract(files: ModelFiles, progress: Progress | None = None) -> ExtractedFacts:
    """Run every step in order, reporting ``progress(percent, step)`` between steps.

    Raises ``SourceUnavailable`` (retry later) or ``ExtractionFailed`` (permanent)."""
    report = progress or _nothing
    facts = ExtractedFacts()
    await report(0, "listing files")
    listing = await asyncio.to_thread(files.list_files)
    names = frozenset(file.path for file in listing)
    facts.record("revision", await asyncio.to_thread(lambda: files.revision), "source revision")
    facts.record("gated", await asyncio.to_thread(lambda: files.gated), "source repository info")

    await report(10, "reading config.json")
    config = await _config(files, names, facts)

    await report(30, "reading model card")
    if "README.md" in names:
        try:
            card_facts(await asyncio.to_thread(files.read_bytes, "README.md"), facts)
        except FileTooLarge as error:
            facts.warn(f"model card skipped: {error.message}")
    if config is not None or facts.pipeline_tag is not None:
        modality_fact(config, names, facts)

    await report(40, "reading safetensors headers")
    found_weights = await _weights(files, listing, facts, report)
    if config is None and not found_weights:
        raise ExtractionFailed("neither config.json nor safetensors weights found: nothing to extract from")

    await report(90, "estimating KV cache")
    kv_cache_fact(facts)
    await report(100, "done")
    return facts


async def _config(files: ModelFiles, names: frozenset[str], facts: ExtractedFacts) -> LoadedConfig | None:
    config: LoadedConfig | None = None
    if "config.json" in names:
        data = await asyncio.to_thread(files.read_bytes, "config.json")
        config = await asyncio.to_thread(load_config, data, facts.warnings)
        config_facts(config, facts)
    else:
        facts.warn("no config.json: architecture and shape are unknown")
    for name, method in LEGACY_QUANTIZATION_FILES.items():
        if facts.quantization_method is None and name in names:
            quantization_facts(_json(await asyncio.to_thread(files.read_bytes, name)), facts, name, method)
    if facts.context_length is None and "tokenizer_config.json" in names:
        tokenizer = _json(await asyncio.to_thread(files.read_bytes, "tokenizer_config.json"))
        limit = tokenizer.get("model_max_length") if isinstance(tokenizer, dict) else None
        if isinstance(limit, int) and 0 < limit < 10**8:  # transformers' "no limit" is 1e30
            facts.record("context_length", limit, "tokenizer_config.json:model_max_length")
    return config


def _json(data: bytes) -> object:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def modality_fact(config: LoadedConfig | None, names: frozenset[str], facts: ExtractedFacts) -> None:
    def has(key: str) -> bool:
        return config is not None and any(isinstance(c.get(key), dict) for c in (config.raw, config.resolved))

    signals = ModalitySignals(
        architectures=facts.architectures or [],
        model_type=facts.model_type,
        has_vision_config=has("vision_config"),
        has_audio_config=has("audio_config"),
        library_name=facts.library_name,
        pipeline_tag=facts.pipeline_tag,
        file_names=names,
    )
    modality, reason = infer_modality(signals)
    facts.record("modality", modality.value, reason)


async def _weights(
    files: ModelFiles, listing: list[RemoteFile], facts: ExtractedFacts, report: Progress
) -> bool:
    weights = await asyncio.to_thread(find_weight_files, listing, files)
    if weights is None:
        other = sorted(f.path for f in listing if f.path.endswith((".bin", ".pt", ".pth", ".gguf")))
        facts.warn(
            f"no safetensors weights ({', '.join(other) or 'no weight files'}): parameter count unknown"
        )
        return False
    tensors: dict[str, TensorInfo] = {}
    for number, shard in enumerate(weights.files, start=1):
        header = await asyncio.to_thread(read_header, files, shard.path, shard.size)
        for name, tensor in header.tensors.items():
            if name in tensors:
                facts.warn(f"tensor {name} appears in more than one file; counted once")
            tensors.setdefault(name, tensor)
        await report(40 + 45 * number // len(weights.files), f"read header {number}/{len(weights.files)}")
    if weights.weight_map is not None:
        missing = [name for name in weights.weight_map if name not in tensors]
        if missing:
            facts.warn(f"{len(missing)} tensors of the index are in no shard header (e.g. {missing[0]})")
    count = count_parameters(
        tensors.values(),
        quantization_method=facts.quantization_method,
        quantization_bits=facts.quantization_bits,
        experts_total=facts.experts_total,
        experts_active=facts.experts_active,
    )
    for warning in count.warnings:
        facts.warn(warning)
    facts.record("parameter_count", count.total or None, weights.source)
    active_source = (
        f"{weights.source}: {'experts scaled by active/total' if count.expert_parameters else 'dense'}"
    )
    facts.record("active_parameter_count", count.active or None, active_source)
    facts.record("weight_bytes", count.weight_bytes, weights.source)
    if weights.total_size is not None and weights.total_size != count.weight_bytes:
        facts.warn(
            f"index total_size {weights.total_size} differs from the headers' {count.weight_bytes} bytes"
        )
    if facts.dtype is None and count.by_dtype:
        stored = count.by_dtype.most_common(1)[0][0]
        facts.record(
            "dtype", SAFETENSORS_DTYPES.get(stored, stored.lower()), f"{weights.source} (most parameters)"
        )
    return True


def kv_cache_fact(facts: ExtractedFacts) -> None:
    if facts.modality is not None and is_encoder_only(facts.architectures or [], Modality(facts.modality)):
        return
    element = dtype_bytes(facts.dtype) or DEFAULT_DTYPE_BYTES
    estimate = kv_cache_estimate(
        layers=facts.layers,
        attention_heads=facts.attention_heads,
        head_dim=facts.head_dim,
        kv_heads=facts.kv_heads,
        kv_lora_rank=facts.kv_lora_rank,
        qk_rope_head_dim=facts.qk_rope_head_dim,
        element_bytes=element,
    )
    if estimate is None:
        return
    if dtype_bytes(facts.dtype) is None:
        facts.warn(f"KV cache assumes {element}-byte elements (dtype {facts.dtype or 'unknown'})")
    formula = KV_FORMULAS[estimate.kind].format(bytes=element)
    facts.record("kv_cache_bytes_per_token", estimate.bytes_per_token, f"config.json: {formula}")
    if facts.sliding_window and facts.sliding_window_layers:
        facts.warn(
            f"{facts.sliding_window_layers} of {facts.layers} layers use a {facts.sliding_window}-token "
            "sliding window: their cache stops growing past it"
        )
