"""config.json corner cases, model cards, KV-cache formulas and the local file source."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from budgraph.extraction import ExtractedFacts, ExtractionFailed, LocalModelFiles
from budgraph.extraction.card import card_facts
from budgraph.extraction.config import config_facts, load_config
from budgraph.extraction.kv_cache import kv_cache_estimate


def facts_of(config: dict[str, Any]) -> ExtractedFacts:
    facts = ExtractedFacts()
    config_facts(load_config(json.dumps(config).encode(), facts.warnings), facts)
    return facts


def test_gpt2_style_keys() -> None:
    facts = facts_of(
        {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": 12, "n_embd": 768}
    )
    assert (facts.layers, facts.hidden_size, facts.attention_heads, facts.context_length) == (
        12,
        768,
        12,
        1024,
    )
    assert facts.provenance["layers"] == "config.json:n_layer"
    assert facts.provenance["context_length"] == "transformers GPT2Config default:n_positions"
    assert facts.head_dim == 64


def test_sliding_window_is_ignored_when_disabled_and_counted_per_layer_type() -> None:
    qwen = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64}
    qwen |= {
        "num_attention_heads": 4,
        "num_hidden_layers": 4,
        "sliding_window": 4096,
        "use_sliding_window": False,
    }
    assert facts_of(qwen).sliding_window is None

    gemma = {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 64}
    gemma |= {"num_attention_heads": 4, "num_hidden_layers": 4, "sliding_window": 512, "head_dim": 16}
    facts = facts_of(gemma)
    assert (facts.sliding_window, facts.sliding_window_layers) == (512, 2)
    assert facts.provenance["sliding_window_layers"] == "transformers Gemma2Config default:layer_types"


def test_modern_dtype_key_and_invalid_config() -> None:
    facts = facts_of(
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "dtype": "torch.bfloat16"}
    )
    assert facts.dtype == "bfloat16"
    with pytest.raises(ExtractionFailed, match="not a JSON object"):
        load_config(b"[1, 2]", [])


def test_transformers_validation_errors_fall_back_to_plain_json() -> None:
    facts = facts_of({"model_type": "llama", "hidden_size": 30, "num_attention_heads": 4})
    assert facts.warnings
    assert facts.warnings[0].startswith("config.json read as plain JSON")
    assert (facts.hidden_size, facts.head_dim) == (30, None)


def test_the_fallback_warning_names_no_temporary_folder() -> None:
    facts = facts_of({"hidden_size": 64})  # no model_type: transformers names the folder it read
    assert facts.warnings == [
        "config.json read as plain JSON: transformers cannot load it (Unrecognized model in the"
        " repository. Should have a `model_type` key in its config.json.)"
    ]


CARD = """---
license: other
license_name: budtest-community
license_link: LICENSE.md
base_model:
- org/base-a
- org/base-b
language: no
---
text"""


def test_card_front_matter() -> None:
    facts = ExtractedFacts()
    card_facts(CARD.encode(), facts)
    assert (facts.licenses, facts.license_name, facts.license_link) == (
        ["other"],
        "budtest-community",
        "LICENSE.md",
    )
    assert facts.base_models == ["org/base-a", "org/base-b"]
    assert facts.languages == ["no"]  # YAML 1.1 reads `no` as false
    assert facts.provenance["license_name"] == "README.md front matter:license_name"


@pytest.mark.parametrize(
    ("readme", "warnings"),
    [
        ("# just a title\n", []),
        ("---\n---\nbody", []),
        (
            "---\nlicense: [unclosed\n---\n",
            ["README.md front matter is not valid YAML (while parsing a flow sequence)"],
        ),
        ("---\n- a list\n---\n", ["README.md front matter is not a mapping"]),
    ],
)
def test_missing_or_invalid_front_matter_is_tolerated(readme: str, warnings: list[str]) -> None:
    facts = ExtractedFacts()
    card_facts(readme.encode(), facts)
    assert (facts.licenses, facts.warnings) == (None, warnings)


def test_kv_cache_formulas() -> None:
    mha = kv_cache_estimate(layers=32, attention_heads=32, head_dim=128)
    gqa = kv_cache_estimate(layers=32, attention_heads=32, head_dim=128, kv_heads=8)
    mqa = kv_cache_estimate(layers=32, attention_heads=32, head_dim=128, kv_heads=1, element_bytes=1)
    mla = kv_cache_estimate(
        layers=61, attention_heads=128, head_dim=192, kv_lora_rank=512, qk_rope_head_dim=64
    )
    assert mha is not None
    assert (mha.kind, mha.bytes_per_token) == ("mha", 524_288)
    assert gqa is not None
    assert (gqa.kind, gqa.bytes_per_token) == ("gqa", 131_072)
    assert mqa is not None
    assert (mqa.kind, mqa.bytes_per_token) == ("mqa", 8_192)
    assert mla is not None
    assert (mla.kind, mla.bytes_per_token) == ("mla", 70_272)
    assert kv_cache_estimate(layers=None, attention_heads=4, head_dim=16) is None

    windowed = kv_cache_estimate(
        layers=4, attention_heads=4, head_dim=16, sliding_window=100, sliding_window_layers=2
    )
    assert windowed is not None
    assert windowed.bytes_per_token == 2 * 4 * 4 * 16 * 2
    per_layer = 2 * 4 * 16 * 2
    assert windowed.bytes_for(1000) == per_layer * (2 * 1000 + 2 * 100)


def test_local_source_stays_inside_its_directory(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", model / "README.md")
    files = LocalModelFiles(model)

    assert [f.path for f in files.list_files()] == ["config.json"]
    for path in ("README.md", "../secret.txt", "/etc/passwd"):
        with pytest.raises(ExtractionFailed):
            files.read_bytes(path)
    with pytest.raises(ExtractionFailed, match="truncated"):
        files.read_range("config.json", 0, 10)
