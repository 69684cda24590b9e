"""The quantization method and weight bits of a checkpoint, from its ``quantization_config``."""

from __future__ import annotations

import re
from typing import Any

from budgraph.extraction.facts import ExtractedFacts

_EIGHT_BIT_METHODS = frozenset({"fp8", "fbgemm_fp8", "eetq", "w8a8_fp8", "fp8_e4m3", "fp8_e5m2"})
_FOUR_BIT_METHODS = frozenset({"mxfp4", "nvfp4", "fp4"})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _compressed_tensors_bits(config: dict[str, Any], facts: ExtractedFacts) -> int | None:
    bits: set[int] = set()
    groups = config.get("config_groups")
    for group in groups.values() if isinstance(groups, dict) else ():
        weights = group.get("weights") if isinstance(group, dict) else None
        if isinstance(weights, dict) and (value := _int(weights.get("num_bits"))) is not None:
            bits.add(value)
    if len(bits) > 1:
        facts.warn(
            f"compressed-tensors groups use several weight widths {sorted(bits)}; the smallest is kept"
        )
    return min(bits) if bits else None


def _method_bits(method: str, config: dict[str, Any], facts: ExtractedFacts) -> int | None:
    if method == "bitsandbytes":
        if config.get("load_in_4bit"):
            return 4
        return 8 if config.get("load_in_8bit") else None
    if method == "compressed-tensors":
        return _compressed_tensors_bits(config, facts)
    if method in _EIGHT_BIT_METHODS:
        return 8
    if method in _FOUR_BIT_METHODS:
        return 4
    if method == "modelopt":  # quant_algo such as "NVFP4", "FP8", "W4A8_AWQ"
        algo = str(config.get("quant_algo", "")).upper()
        return 4 if "FP4" in algo or "W4" in algo else 8 if "FP8" in algo or "INT8" in algo else None
    if method == "quanto" and isinstance(config.get("weights"), str):
        digits = re.search(r"\d+", config["weights"])
        return int(digits.group()) if digits else None
    for key in ("bits", "w_bit", "nbits", "num_bits", "weight_bits", "wbits"):
        if (value := _int(config.get(key))) is not None:
            return value
    return None


def quantization_method(config: dict[str, Any]) -> str | None:
    method = config.get("quant_method") or config.get("quantization_method")
    if isinstance(method, str) and method:
        return "compressed-tensors" if method.lower() == "compressed_tensors" else method.lower()
    if "config_groups" in config:
        return "compressed-tensors"
    if "load_in_4bit" in config or "load_in_8bit" in config:
        return "bitsandbytes"
    return None


def quantization_facts(
    config: Any,
    facts: ExtractedFacts,
    source: str = "config.json:quantization_config",
    default: str | None = None,
) -> None:
    """Record ``quantization_method`` and ``quantization_bits``; ``default`` names the method of a
    separate file that has none (``quantize_config.json`` of older GPTQ checkpoints)."""
    if not isinstance(config, dict) or not config:
        return
    method = quantization_method(config) or default
    if method is None:
        facts.warn(f"{source.split(':')[0]} has a quantization config without a method")
        return
    facts.record("quantization_method", method, source)
    facts.record("quantization_bits", _method_bits(method, config, facts), source)
