"""Parameter counting rules on synthetic headers, and header parsing."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from safetensors.numpy import save_file

from budgraph.extraction import ExtractionFailed, LocalModelFiles, extract
from budgraph.extraction.parameters import count_parameters, infer_packed_bits
from budgraph.extraction.safetensors_headers import TensorInfo, parse_header, read_header
from tests.extraction import builders

DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "I32": 4, "I64": 8, "U8": 1, "F8_E4M3": 1}


def tensor(name: str, dtype: str, *shape: int) -> TensorInfo:
    size = DTYPE_BYTES[dtype]
    for dim in shape:
        size *= dim
    return TensorInfo(name, dtype, shape, "model.safetensors", 0, size)


def test_shared_experts_stay_active() -> None:
    # DeepSeek style: one shared expert (always on), 4 routed experts with 2 active, a router
    tensors = [tensor("model.embed_tokens.weight", "BF16", 100, 8)]
    tensors += [
        tensor(f"model.layers.0.mlp.shared_experts.{p}.weight", "BF16", 16, 8) for p in ("up", "down")
    ]
    tensors += [tensor(f"model.layers.0.mlp.experts.{e}.up_proj.weight", "BF16", 16, 8) for e in range(4)]
    tensors.append(tensor("model.layers.0.mlp.gate.weight", "BF16", 4, 8))

    count = count_parameters(tensors, experts_total=4, experts_active=2)

    assert count.total == 800 + 2 * 128 + 4 * 128 + 32
    assert count.expert_parameters == 4 * 128
    assert count.active == 800 + 2 * 128 + 32 + 2 * 128


def test_fused_expert_tensors_and_unknown_active_count() -> None:
    tensors = [
        tensor("model.layers.0.mlp.experts.gate_up_proj", "BF16", 4, 8, 32),
        tensor("model.layers.0.mlp.router.weight", "BF16", 4, 8),
    ]
    fused = count_parameters(tensors, experts_total=4, experts_active=1)
    assert (fused.total, fused.active) == (1024 + 32, 32 + 1024 // 4)

    unknown = count_parameters(tensors)
    assert unknown.active is None
    assert unknown.warnings == ["expert tensors found but the number of active experts is unknown"]


def test_buffers_and_quantization_side_tensors_are_not_parameters() -> None:
    tensors = [
        tensor("embeddings.position_ids", "I64", 1, 512),
        tensor("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 32),
        tensor("bn.running_mean", "F32", 8),
        tensor("h.0.attn.bias", "U8", 1, 1, 4, 4),  # a causal mask stored as a byte tensor
        tensor("layer.weight", "F8_E4M3", 16, 16),
        tensor("layer.weight_scale_inv", "F32", 1, 1),
        tensor("layer.input_scale", "F32", 1),
    ]

    count = count_parameters(tensors, quantization_method="fp8", quantization_bits=8)

    assert count.total == 256
    assert count.buffers == [
        "embeddings.position_ids",
        "model.layers.0.self_attn.rotary_emb.inv_freq",
        "bn.running_mean",
        "h.0.attn.bias",
    ]
    assert count.quantization_tensors == 2
    assert count.weight_bytes == 512 * 8 + 32 * 4 + 8 * 4 + 16 + 256 + 4 + 4


def test_bitsandbytes_4bit_stores_two_values_per_byte() -> None:
    tensors = [
        tensor("q_proj.weight", "U8", 128, 1),  # 256 values packed into 128 bytes
        tensor("q_proj.weight.absmax", "F32", 4),
        tensor("q_proj.weight.quant_map", "F32", 16),
        tensor("q_proj.weight.quant_state.bitsandbytes__nf4", "U8", 64),
        tensor("norm.weight", "F16", 16),
    ]
    count = count_parameters(tensors, quantization_method="bitsandbytes", quantization_bits=4)
    assert count.total == 256 + 16


def test_gptq_bits_are_inferred_from_the_side_tensors() -> None:
    tensors = {name: tensor(name, "I32", 8, 64) for name in ["l.qweight"]}
    tensors["l.qzeros"] = tensor("l.qzeros", "I32", 2, 8)
    tensors["l.scales"] = tensor("l.scales", "F16", 2, 64)
    assert infer_packed_bits(tensors) == 4
    assert count_parameters(tensors.values()).total == 8 * 64 * 8

    tensors["l.qzeros"] = tensor("l.qzeros", "I32", 2, 16)  # 64 / 16 = 4 values per int32: 8-bit
    assert count_parameters(tensors.values()).total == 8 * 64 * 4


async def test_legacy_quantize_config_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(builders.llama_config()))
    (tmp_path / "quantize_config.json").write_text(
        json.dumps({"bits": 4, "group_size": 32, "desc_act": False})
    )
    save_file(builders.quantized_llama_tensors("gptq"), str(tmp_path / "gptq_model-4bit-32g.safetensors"))

    facts = await extract(LocalModelFiles(tmp_path))

    assert (facts.quantization_method, facts.quantization_bits) == ("gptq", 4)
    assert facts.provenance["quantization_method"] == "quantize_config.json"
    assert facts.parameter_count == builders.LLAMA_PARAMETERS
    assert facts.provenance["parameter_count"] == "gptq_model-4bit-32g.safetensors"


def _safetensors_bytes(header: dict[str, object], data: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def test_header_parsing_and_validation(tmp_path: Path) -> None:
    good = {"__metadata__": {"format": "pt"}, "w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}}
    (tmp_path / "good.safetensors").write_bytes(_safetensors_bytes(good, bytes(12)))
    header = read_header(LocalModelFiles(tmp_path), "good.safetensors", None)
    length = len(json.dumps(good))
    assert header.metadata == {"format": "pt"}
    assert header.tensors["w"] == TensorInfo(
        "w", "F16", (2, 3), "good.safetensors", 8 + length, 8 + length + 12
    )

    with pytest.raises(ExtractionFailed, match="invalid safetensors entry for tensor 'w'"):
        parse_header(json.dumps({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 2]}}).encode(), "x")
    with pytest.raises(ExtractionFailed, match="not valid JSON"):
        parse_header(b"\xff{", "x")
    (tmp_path / "huge.safetensors").write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ExtractionFailed, match="implausible safetensors header length"):
        read_header(LocalModelFiles(tmp_path), "huge.safetensors", 10)


def test_mxfp4_blocks_count_two_values_per_byte() -> None:
    # gpt-oss style: experts stored as 4-bit blocks of 32 values (16 bytes) with one scale per block
    tensors = [
        tensor("model.layers.0.mlp.experts.down_proj_blocks", "U8", 4, 8, 2, 16),
        tensor("model.layers.0.mlp.experts.down_proj_scales", "U8", 4, 8, 2),
        tensor("model.layers.0.mlp.router.weight", "BF16", 4, 8),
    ]
    count = count_parameters(
        tensors, quantization_method="mxfp4", quantization_bits=4, experts_total=4, experts_active=2
    )
    assert (count.total, count.expert_parameters, count.quantization_tensors) == (2048 + 32, 2048, 1)
    assert count.active == 32 + 1024
