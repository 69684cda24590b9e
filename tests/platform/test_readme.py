"""The README's example queries answer with real data on a fresh registry (what `make dev` loads: the
seed, then every leaderboard source from its recorded sample), and its commands are typed as they
are run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.refresh import refresh
from budgraph.seeds.service import seed
from budgraph.settings import Settings
from tests import factories
from tests.conftest import GraphQLClient

README = Path(__file__).resolve().parents[2] / "README.md"


PLANS_SECTION = "## Deployment plans"


def _sections(plans: bool) -> str:
    """The README's text: the deployment plans section alone (its examples need an extracted
    model), or everything else (whose examples answer on a fresh registry)."""
    text = README.read_text(encoding="utf-8")
    start = text.index(PLANS_SECTION)
    end = text.index("\n## ", start + len(PLANS_SECTION))
    return text[start:end] if plans else text[:start] + text[end:]


def _blocks(language: str, plans: bool = False) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _sections(plans), flags=re.DOTALL)


def example_queries(plans: bool = False) -> list[str]:
    """Each top-level `{ ... }` of the README's graphql blocks (comments dropped)."""
    queries = []
    for block in _blocks("graphql", plans):
        text = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("#"))
        depth, start = 0, 0
        for index, char in enumerate(text):
            if char == "{":
                start = index if depth == 0 else start
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    queries.append(text[start : index + 1])
    return queries


def empty_parts(value: Any, path: str = "data") -> list[str]:
    """Where an answer is empty: a null root field, or an empty list anywhere."""
    if isinstance(value, list):
        found = [] if value else [path]
        for index, item in enumerate(value):
            found += empty_parts(item, f"{path}[{index}]")
        return found
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if item is None and path == "data":
                found.append(f"{path}.{key}")
            found += empty_parts(item, f"{path}.{key}")
        return found
    return []


@pytest.fixture
async def fresh_registry(sessions: async_sessionmaker[RequestSession]) -> None:
    async with UnitOfWork(sessions, actor="seed") as uow:
        await seed(uow.session)
    outcomes = await refresh(sessions, Settings(leaderboards_offline=True), None, offline=True)
    assert {outcome.status for outcome in outcomes} == {"succeeded"}


def test_the_readme_has_its_five_examples() -> None:
    assert [query.split("(")[0].strip("{ \n") for query in example_queries()] == [
        "compatibleEngineVersions",
        "compatibleEngineVersions",
        "latestEngineVersion",
        "quantizationSupport",
        "changes",
    ]


@pytest.mark.parametrize("query", example_queries(), ids=lambda q: q.split("(")[0].strip("{ \n"))
async def test_each_readme_example_answers_with_data(
    fresh_registry: None, client: GraphQLClient, query: str
) -> None:
    data = await client.data(query)
    assert empty_parts(data) == [], data


async def test_the_rocm_example_answers_with_the_rocm_images_of_the_shipped_releases(
    fresh_registry: None, client: GraphQLClient
) -> None:
    (rocm,) = [query for query in example_queries() if "deviceArchitecture: ROCM" in query]
    nodes = (await client.data(rocm))["compatibleEngineVersions"]["nodes"]
    answered = {
        (
            node["engineVersion"]["engine"]["slug"],
            node["engineVersion"]["version"],
            node["engineVersion"]["upstreamRelease"]["version"],
            node["containerImage"],
        )
        for node in nodes
    }
    assert answered == {
        ("llamacpp", "0.3.35", "0.3.35", "ghcr.io/ggml-org/llama.cpp:server-rocm-b10454"),
        ("llamacpp", "0.3.36", "0.3.36", "ghcr.io/ggml-org/llama.cpp:server-rocm-b11312"),
        ("vllm", "0.8.5", "0.8.5", "rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513"),
        ("vllm", "0.9.1", "0.9.1", "rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715"),
    }
    for node in nodes:  # the quantization each release's code allows on ROCm, never CUDA-only methods
        methods = {row["method"] for row in node["engineVersion"]["quantizationSupport"]}
        if node["engineVersion"]["engine"]["slug"] == "vllm":
            assert "fp8" in methods, methods
        else:  # llama.cpp runs GGUF on each ggml backend it builds (ggml-hip here)
            assert methods == {"gguf"}, methods


# Qwen/Qwen2.5-7B-Instruct as extraction records it: config.json (28 layers, 28 heads, 4 KV heads,
# hidden 3584, vocabulary 152,064, 32,768 positions, bfloat16, use_sliding_window false) and
# model.safetensors.index.json (total_size 15,231,233,024: 7,615,616,512 parameters x 2 bytes).
QWEN_7B = {
    "architecture": "Qwen2ForCausalLM", "layers": 28, "attention_heads": 28, "kv_heads": 4, "head_dim": 128,
    "hidden_size": 3584, "intermediate_size": 18944, "vocab_size": 152064, "context_length": 32768,
    "dtype": "bfloat16", "parameter_count": 7_615_616_512, "weight_bytes": 15_231_233_024,
}  # fmt: skip


def test_the_plans_section_has_its_two_examples() -> None:
    assert [query.split("(")[0].strip("{ \n") for query in example_queries(plans=True)] == [
        "deploymentPlans",
        "model",
    ]


async def test_each_plans_example_answers_once_the_model_is_extracted(
    fresh_registry: None, session: RequestSession, client: GraphQLClient
) -> None:
    await factories.model(session, "Qwen/Qwen2.5-7B-Instruct", status="ready", **QWEN_7B)
    await session.commit()
    plans, cheapest = example_queries(plans=True)

    answered = (await client.data(plans))["deploymentPlans"]
    assert answered, "no plan"
    fitting = [plan for plan in answered if plan["fits"]]
    # 15.2 GB of weights and 8 x 32,768 tokens x 57,344 bytes (2 x 28 x 4 x 128 x 2) = 15.0 GB of cache
    assert fitting
    assert {plan["kvCacheBytesPerToken"] for plan in fitting} == {57_344}
    assert all(plan["offer"] and plan["dollarsPerMillionOutputTokens"] for plan in fitting), fitting
    best = (await client.data(cheapest))["model"]["cheapestDeployment"]
    assert best is not None
    assert empty_parts({"plan": best}) == [], best


def test_empty_answers_are_recognised() -> None:
    assert empty_parts({"latestEngineVersion": None}) == ["data.latestEngineVersion"]
    assert empty_parts({"compatibleEngineVersions": {"nodes": []}}) == ["data.compatibleEngineVersions.nodes"]
    assert empty_parts({"changes": {"changes": [{"changedFields": []}], "hasMore": False}}) == [
        "data.changes.changes[0].changedFields"
    ]
    assert empty_parts({"x": {"nodes": [{"reasoningParser": None}]}}) == []


def test_readme_commands_are_typed_as_they_are_run() -> None:
    """A command in a shell block is a make target or the venv's budgraph (a bare `budgraph` is not on
    a newcomer's PATH)."""
    for block in _blocks("sh"):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command and not command.startswith("sudo apt-get"):
                assert command.startswith(("make ", ".venv/bin/budgraph ")), command
