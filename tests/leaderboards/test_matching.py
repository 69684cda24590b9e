"""Leaderboard names to registry models: exact, alias, normalised, and never a guess."""

from __future__ import annotations

import pytest

from budgraph.leaderboards.matching import MatchResult, ModelMatcher, candidates, forms, normalise

LLAMA_31_8B = 1
META_LLAMA_31_8B = 2
QWEN_72B_INSTRUCT = 3
QWEN_72B = 4
GPT_4O = 5
LLAMA_3_8B = 6
UNSLOTH_LLAMA_31_8B = 7

MODELS = [
    (LLAMA_31_8B, "meta-llama/Llama-3.1-8B-Instruct"),
    (QWEN_72B_INSTRUCT, "Qwen/Qwen2.5-72B-Instruct"),
    (QWEN_72B, "Qwen/Qwen2.5-72B"),
    (GPT_4O, "openai/gpt-4o"),
    (LLAMA_3_8B, "meta-llama/Meta-Llama-3-8B"),
]
ALIASES = {"gpt-4o-2024-05-13": GPT_4O, "claude-35-sonnet-june-24": 99}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("Llama-3.1-8B-Instruct (bf16)", "llama-3.1-8b"),
        ("Qwen2.5-72B-Instruct-AWQ", "qwen2.5-72b"),
        ("gpt-4o-2024-05-13", "gpt-4o"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet"),
        ("gpt-3.5-turbo-0613", "gpt-3.5-turbo"),
        ("mistral-large-2407", "mistral-large"),
        ("Llama-2-7b-chat-hf", "llama-2-7b"),
        ("google/gemma-2-9b-it", "gemma-2-9b"),
        ("TheBloke/Llama-2-7B-Chat-GPTQ", "llama-2-7b"),
        ("Qwen2.5-7B-Instruct-Int4", "qwen2.5-7b"),
        ("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", "llama-3.1-8b"),
        ("bartowski/Qwen2.5-7B-Instruct-GGUF", "qwen2.5-7b"),
        ("Qwen2.5 7B Instruct Q4_K_M", "qwen2.5-7b"),
        ("GPT-4o-2024-11-20 (FC)", "gpt-4o"),
        ("Mistral-7B-Instruct-v0.3", "mistral-7b-instruct-v0.3"),
        ("text_embedding.3 large", "text-embedding-3-large"),
    ],
)
def test_normalise(name: str, expected: str) -> None:
    assert normalise(name) == expected


def test_version_numbers_stay_distinct() -> None:
    assert normalise("Llama-3-8B") == "llama-3-8b"
    assert normalise("Llama-3.1-8B") == "llama-3.1-8b"
    assert normalise("llama-3-1-8b") != normalise("Llama-3.1-8B")
    assert normalise("Qwen2.5-7B") != normalise("Qwen2-5-7B")


def test_candidates_go_from_specific_to_loose() -> None:
    assert forms("Qwen/Qwen2.5-72B-Instruct-AWQ") == (
        "qwen2.5-72b-instruct-awq",
        "qwen2.5-72b-instruct",
        "qwen2.5-72b",
    )
    assert candidates("Qwen/Qwen2.5-72B-Instruct-AWQ") == [
        "qwen2.5-72b-instruct-awq",
        "qwen2.5-72b-instruct",
        "qwen2.5-72b",
    ]
    assert candidates("gpt-4o") == ["gpt-4o"]


def matcher(models: list[tuple[int, str]] = MODELS) -> ModelMatcher:
    return ModelMatcher(models, ALIASES)


def test_exact_uri_ignoring_case() -> None:
    assert matcher().match("META-LLAMA/llama-3.1-8b-instruct") == MatchResult(LLAMA_31_8B, "exact")


def test_organisation_prefix_is_not_part_of_the_name() -> None:
    registry = [(META_LLAMA_31_8B, "meta-llama/Meta-Llama-3.1-8B-Instruct")]

    assert matcher(registry).match("Meta-Llama-3.1-8B-Instruct") == MatchResult(
        META_LLAMA_31_8B, "normalised"
    )
    assert matcher(registry).match("meta-llama/Meta-Llama-3.1-8B-Instruct") == MatchResult(
        META_LLAMA_31_8B, "exact"
    )


def test_decorations_are_ignored() -> None:
    assert matcher().match("Llama-3.1-8B-Instruct (bf16)") == MatchResult(LLAMA_31_8B, "normalised")
    # The renamed Meta-Llama-3.1 repository is the same model.
    assert matcher().match("Meta-Llama-3.1-8B-Instruct") == MatchResult(LLAMA_31_8B, "normalised")


def test_quantised_name_finds_the_instruct_model_not_the_base() -> None:
    assert matcher().match("Qwen2.5-72B-Instruct-AWQ") == MatchResult(QWEN_72B_INSTRUCT, "normalised")
    # ...and the base model's own name still finds the base model.
    assert matcher().match("Qwen2.5-72B") == MatchResult(QWEN_72B, "normalised")


def test_alias_table() -> None:
    assert matcher().match("gpt-4o-2024-05-13") == MatchResult(GPT_4O, "alias")
    # Aliases are compared with case, separators and organisation normalised...
    assert matcher().match("GPT 4o 2024-05-13") == MatchResult(GPT_4O, "alias")
    assert matcher().match("OpenAI/GPT_4o_2024_05_13") == MatchResult(GPT_4O, "alias")
    assert matcher().match("claude-35-sonnet-june-24") == MatchResult(99, "alias")


def test_an_alias_never_loses_its_date_or_version() -> None:
    dated = ModelMatcher([(42, "org/some-model")], {"gpt-4o-2024-05-13": 42, "Mistral-7B-v0.3": 42})

    assert dated.match("gpt-4o-2024-05-13") == MatchResult(42, "alias")
    # ...but never with a date, version, note or tag dropped: other snapshots are other models.
    assert dated.match("gpt-4o-2024-11-20") == MatchResult(None, None)
    assert dated.match("gpt-4o") == MatchResult(None, None)
    assert dated.match("gpt-4o-2024-05-13 (FC)") == MatchResult(None, None)
    assert dated.match("mistral-7b-v0.3") == MatchResult(42, "alias")
    assert dated.match("mistral-7b-v0.2") == MatchResult(None, None)
    assert dated.match("mistral-7b") == MatchResult(None, None)


def test_alias_wins_over_a_normalised_match() -> None:
    registry = [*MODELS, (42, "openai/gpt-4o-2024-05-13")]
    # Without the alias, the dated model would be found by its name...
    assert ModelMatcher(registry, {}).match("gpt-4o-2024-05-13") == MatchResult(42, "normalised")
    # ...but a curated alias is the operator's decision and comes first.
    assert ModelMatcher(registry, ALIASES).match("gpt-4o-2024-05-13") == MatchResult(GPT_4O, "alias")


def test_a_tie_stays_unmatched() -> None:
    registry = [
        (1, "meta-llama/Llama-3.1-8B-Instruct"),
        (UNSLOTH_LLAMA_31_8B, "unsloth/Llama-3.1-8B-Instruct"),
    ]

    result = matcher(registry).match("Llama-3.1-8B-Instruct")

    assert result == MatchResult(None, None, (1, UNSLOTH_LLAMA_31_8B))


def test_a_tie_in_the_loose_form_stays_unmatched() -> None:
    # "-chat" is neither model's own suffix: the family form ties the base and instruct models.
    assert matcher().match("Qwen2.5-72B-Chat") == MatchResult(None, None, (QWEN_72B_INSTRUCT, QWEN_72B))


def test_the_names_organisation_breaks_a_tie() -> None:
    registry = [
        (1, "meta-llama/Llama-3.1-8B-Instruct"),
        (UNSLOTH_LLAMA_31_8B, "unsloth/Llama-3.1-8B-Instruct"),
    ]

    assert matcher(registry).match("meta-llama/Meta-Llama-3.1-8B-Instruct") == MatchResult(1, "normalised")


def test_an_alias_pointing_two_ways_stays_unmatched() -> None:
    result = ModelMatcher(MODELS, {"llama-8b": LLAMA_31_8B, "Llama 8B": LLAMA_3_8B}).match("llama-8b")

    assert result == MatchResult(None, None, (LLAMA_31_8B, LLAMA_3_8B))


def test_versions_are_not_conflated() -> None:
    only_31 = [(LLAMA_31_8B, "meta-llama/Llama-3.1-8B-Instruct")]

    assert matcher(only_31).match("Llama-3-8B") == MatchResult(None, None)
    assert matcher(only_31).match("Meta-Llama-3-8B-Instruct") == MatchResult(None, None)
    assert matcher().match("Llama-3-8B") == MatchResult(LLAMA_3_8B, "normalised")
    assert matcher().match("Llama-3.1-8B") == MatchResult(LLAMA_31_8B, "normalised")


def test_unknown_names_are_unmatched() -> None:
    assert matcher().match("claude-3-5-sonnet-20240620") == MatchResult(None, None)
    assert matcher().match("") == MatchResult(None, None)


def test_matching_does_not_depend_on_order() -> None:
    names = ["Llama-3.1-8B-Instruct (bf16)", "Qwen2.5-72B-Chat", "gpt-4o-2024-08-06", "Qwen2.5-72B"]
    forward = [ModelMatcher(MODELS, ALIASES).match(n) for n in names]
    backward = [ModelMatcher(list(reversed(MODELS)), dict(reversed(ALIASES.items()))).match(n) for n in names]

    assert forward == backward
