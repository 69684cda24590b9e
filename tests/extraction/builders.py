"""Fixture model repositories written by the tests: real configs and real safetensors files (numpy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

RNG = np.random.default_rng(7)

# The tiny Llama (GQA): hidden 64, 4 heads of 16, 2 key-value heads, 2 layers, MLP 128, vocabulary 256.
LLAMA = {"hidden": 64, "heads": 4, "kv_heads": 2, "layers": 2, "intermediate": 128, "vocab": 256}
LLAMA_HEAD_DIM = 64 // 4
# embed 256*64 + per layer (q 64*64 + k 32*64 + v 32*64 + o 64*64 + gate/up/down 3*128*64 + 2 norms of 64)
# + final norm 64 + lm_head 256*64
LLAMA_PARAMETERS = (
    256 * 64 + 2 * (64 * 64 + 32 * 64 + 32 * 64 + 64 * 64 + 3 * 128 * 64 + 2 * 64) + 64 + 256 * 64
)
LLAMA_LINEAR_SUFFIXES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# The tiny Mixtral: hidden 32, 4 heads of 8, 2 key-value heads, 2 layers, 4 experts of MLP 64, 2 active.
MIXTRAL_EXPERT_PARAMETERS = 2 * 4 * (3 * 64 * 32)  # layers * experts * (w1 + w2 + w3)
MIXTRAL_DENSE_PARAMETERS = (
    128 * 32 + 2 * (32 * 32 + 16 * 32 + 16 * 32 + 32 * 32 + 4 * 32 + 2 * 32) + 32 + 128 * 32
)
MIXTRAL_PARAMETERS = MIXTRAL_DENSE_PARAMETERS + MIXTRAL_EXPERT_PARAMETERS
MIXTRAL_ACTIVE_PARAMETERS = MIXTRAL_DENSE_PARAMETERS + MIXTRAL_EXPERT_PARAMETERS * 2 // 4

README = """---
license: apache-2.0
base_model: meta-llama/Llama-3.1-8B
language:
- en
- fr
datasets: [tiny/stories]
tags: [text-generation, tiny]
pipeline_tag: text-generation
library_name: transformers
---
# A tiny test model
"""


def _f16(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float16)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def llama_config(**extra: Any) -> dict[str, Any]:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": LLAMA["hidden"],
        "intermediate_size": LLAMA["intermediate"],
        "num_attention_heads": LLAMA["heads"],
        "num_key_value_heads": LLAMA["kv_heads"],
        "num_hidden_layers": LLAMA["layers"],
        "vocab_size": LLAMA["vocab"],
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        **extra,
    }


def llama_tensors() -> dict[str, np.ndarray]:
    h, kv, inter, vocab = (
        LLAMA["hidden"],
        LLAMA["kv_heads"] * LLAMA_HEAD_DIM,
        LLAMA["intermediate"],
        LLAMA["vocab"],
    )
    tensors = {"model.embed_tokens.weight": _f16(vocab, h)}
    shapes = {"q_proj": (h, h), "k_proj": (kv, h), "v_proj": (kv, h), "o_proj": (h, h)}
    for i in range(LLAMA["layers"]):
        prefix = f"model.layers.{i}"
        for name, shape in shapes.items():
            tensors[f"{prefix}.self_attn.{name}.weight"] = _f16(*shape)
        tensors[f"{prefix}.mlp.gate_proj.weight"] = _f16(inter, h)
        tensors[f"{prefix}.mlp.up_proj.weight"] = _f16(inter, h)
        tensors[f"{prefix}.mlp.down_proj.weight"] = _f16(h, inter)
        tensors[f"{prefix}.input_layernorm.weight"] = np.ones(h, np.float16)
        tensors[f"{prefix}.post_attention_layernorm.weight"] = np.ones(h, np.float16)
    tensors["model.norm.weight"] = np.ones(h, np.float16)
    tensors["lm_head.weight"] = _f16(vocab, h)
    return tensors


def write_sharded(folder: Path, tensors: dict[str, np.ndarray], shards: int = 2) -> int:
    """Write ``tensors`` as ``shards`` files plus model.safetensors.index.json; return the data bytes."""
    names = list(tensors)
    per_shard = -(-len(names) // shards)
    weight_map: dict[str, str] = {}
    for number in range(shards):
        file = f"model-{number + 1:05d}-of-{shards:05d}.safetensors"
        part = {name: tensors[name] for name in names[number * per_shard : (number + 1) * per_shard]}
        save_file(part, str(folder / file), metadata={"format": "pt"})
        weight_map |= dict.fromkeys(part, file)
    total = sum(array.nbytes for array in tensors.values())
    _write_json(
        folder / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map}
    )
    return total


def write_llama(folder: Path) -> Path:
    """A sharded Llama with GQA, a model card, and an old-style rotary ``inv_freq`` buffer."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", llama_config())
    _write_json(folder / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2})
    _write_json(folder / "tokenizer_config.json", {"model_max_length": 2048})
    (folder / "README.md").write_text(README)
    tensors = llama_tensors()
    tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = np.ones(LLAMA_HEAD_DIM // 2, np.float32)
    write_sharded(folder, tensors)
    (folder / "pytorch_model.bin").write_bytes(b"pickle weights that must never be fetched")
    return folder


def _pack_int4(values: np.ndarray, axis: int, order: tuple[int, ...] = tuple(range(8))) -> np.ndarray:
    """Pack 4-bit values (0..15) eight to an int32 along ``axis`` (``order`` is AWQ's interleave)."""
    moved = np.moveaxis(values.astype(np.uint32), axis, -1)
    grouped = moved.reshape(*moved.shape[:-1], moved.shape[-1] // 8, 8)
    packed = np.zeros(grouped.shape[:-1], np.uint32)
    for slot, source in enumerate(order):
        packed |= grouped[..., source] << np.uint32(4 * slot)
    return np.moveaxis(packed.view(np.int32), -1, axis)


def quantized_llama_tensors(layout: str, group_size: int = 32) -> dict[str, np.ndarray]:
    """The Llama with its linear layers 4-bit packed as ``gptq``, ``awq`` or ``compressed-tensors``."""
    tensors: dict[str, np.ndarray] = {}
    for name, array in llama_tensors().items():
        module = name.removesuffix(".weight")
        if not module.endswith(LLAMA_LINEAR_SUFFIXES):
            tensors[name] = array
            continue
        out_features, in_features = array.shape
        values = RNG.integers(0, 16, size=(in_features, out_features))  # the 4-bit codes, [in, out]
        groups = in_features // group_size
        if layout == "gptq":  # qweight [in/8, out], packed along the input dim
            tensors[f"{module}.qweight"] = _pack_int4(values, axis=0)
            tensors[f"{module}.qzeros"] = _pack_int4(np.full((groups, out_features), 8), axis=1)
            tensors[f"{module}.scales"] = _f16(groups, out_features)
            tensors[f"{module}.g_idx"] = (np.arange(in_features) // group_size).astype(np.int32)
        elif layout == "awq":  # qweight [in, out/8], packed along the output dim
            awq_order = (0, 2, 4, 6, 1, 3, 5, 7)
            tensors[f"{module}.qweight"] = _pack_int4(values, axis=1, order=awq_order)
            tensors[f"{module}.qzeros"] = _pack_int4(
                np.full((groups, out_features), 8), axis=1, order=awq_order
            )
            tensors[f"{module}.scales"] = _f16(groups, out_features)
        else:  # compressed-tensors pack-quantized: weight_packed [out, in/8]
            tensors[f"{module}.weight_packed"] = _pack_int4(values.T, axis=1)
            tensors[f"{module}.weight_scale"] = _f16(out_features, groups)
            tensors[f"{module}.weight_shape"] = np.array([out_features, in_features], np.int64)
    return tensors


QUANTIZATION_CONFIGS: dict[str, dict[str, Any]] = {
    "gptq": {"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": False, "sym": True},
    "awq": {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": True, "version": "gemm"},
    "compressed-tensors": {
        "quant_method": "compressed-tensors",
        "format": "pack-quantized",
        "config_groups": {
            "group_0": {
                "targets": ["Linear"],
                "weights": {
                    "num_bits": 4,
                    "type": "int",
                    "symmetric": True,
                    "strategy": "group",
                    "group_size": 32,
                },
            }
        },
        "ignore": ["lm_head"],
    },
}


def write_quantized_llama(folder: Path, layout: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", llama_config(quantization_config=QUANTIZATION_CONFIGS[layout]))
    save_file(quantized_llama_tensors(layout), str(folder / "model.safetensors"))
    return folder


def write_mixtral(folder: Path) -> Path:
    """A Mixtral-style MoE: 4 experts per layer, 2 active per token."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["MixtralForCausalLM"],
        "model_type": "mixtral",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_hidden_layers": 2,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "vocab_size": 128,
        "max_position_embeddings": 32768,
        "sliding_window": None,
        "torch_dtype": "float16",
    }
    _write_json(folder / "config.json", config)
    tensors = {
        "model.embed_tokens.weight": _f16(128, 32),
        "model.norm.weight": _f16(32),
        "lm_head.weight": _f16(128, 32),
    }
    for i in range(2):
        prefix = f"model.layers.{i}"
        for name, rows in (("q_proj", 32), ("k_proj", 16), ("v_proj", 16), ("o_proj", 32)):
            tensors[f"{prefix}.self_attn.{name}.weight"] = _f16(rows, 32)
        tensors[f"{prefix}.block_sparse_moe.gate.weight"] = _f16(4, 32)
        for expert in range(4):
            moe = f"{prefix}.block_sparse_moe.experts.{expert}"
            tensors[f"{moe}.w1.weight"] = _f16(64, 32)
            tensors[f"{moe}.w2.weight"] = _f16(32, 64)
            tensors[f"{moe}.w3.weight"] = _f16(64, 32)
        tensors[f"{prefix}.input_layernorm.weight"] = _f16(32)
        tensors[f"{prefix}.post_attention_layernorm.weight"] = _f16(32)
    save_file(tensors, str(folder / "model.safetensors"))
    return folder


def write_llava(folder: Path) -> Path:
    """A Llava-style vision-language config: the language model's facts live in text_config."""
    vision = {"model_type": "clip_vision_model", "hidden_size": 48, "intermediate_size": 96}
    vision |= {"num_attention_heads": 4, "num_hidden_layers": 2, "image_size": 32, "patch_size": 8}
    text = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4}
    text |= {
        "num_key_value_heads": 2,
        "num_hidden_layers": 2,
        "vocab_size": 256,
        "max_position_embeddings": 4096,
    }
    config = {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "vision_config": vision,
        "text_config": text,
        "image_token_index": 255,
        "torch_dtype": "bfloat16",
    }
    _write_json(folder / "config.json", config)
    return folder


def write_remote_code(folder: Path) -> Path:
    """A config that needs the repository's own Python code (auto_map + a model_type transformers lacks)."""
    config = {
        "architectures": ["BudTestForCausalLM"],
        "model_type": "budtest_custom",
        "auto_map": {
            "AutoConfig": "configuration_budtest.BudTestConfig",
            "AutoModelForCausalLM": "modeling_budtest.BudTestForCausalLM",
        },
        "hidden_size": 96,
        "num_attention_heads": 6,
        "num_key_value_heads": 2,
        "num_hidden_layers": 3,
        "max_seq_len": 8192,
        "vocab_size": 1000,
        "torch_dtype": "bfloat16",
    }
    _write_json(folder / "config.json", config)
    (folder / "configuration_budtest.py").write_text("raise SystemExit('remote code must never run')\n")
    return folder


DEEPSEEK_V3_CONFIG: dict[str, Any] = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config"},
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "kv_lora_rank": 512,
    "q_lora_rank": 1536,
    "qk_rope_head_dim": 64,
    "qk_nope_head_dim": 128,
    "v_head_dim": 128,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "max_position_embeddings": 163840,
    "vocab_size": 129280,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": [128, 128],
    },
}


def write_deepseek_v3(folder: Path) -> Path:
    _write_json(folder / "config.json", DEEPSEEK_V3_CONFIG)
    return folder
