"""Data the upstream catalogue has wrong: the seed build corrects or rejects it, recording why, and
the seed serves what a runtime or a dashboard needs (per-query and long-prompt prices, chat
templates, memory in a named unit, the devices a runtime sees)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from budgraph.kit.db import RequestSession
from budgraph.seeds import build_from_reference
from budgraph.seeds.files import DATA_DIR
from budgraph.seeds.service import seed
from tests.conftest import GraphQLClient

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
GENERATED = [
    "engines.json",
    "architectures.json",
    "parser_rules.json",
    "licenses.json",
    "providers.json",
    "provider_models.json",
    "corrections.json",
]


def _records(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))["records"]
    return loaded


@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="the upstream reference files (../shared/reference) are absent"
)
def test_the_committed_seed_is_what_the_build_makes_of_the_reference(tmp_path: Path) -> None:
    build_from_reference.main([str(REFERENCE), "--out", str(tmp_path)])
    for name in GENERATED:
        assert (tmp_path / name).read_text(encoding="utf-8") == (DATA_DIR / name).read_text(
            encoding="utf-8"
        ), name


def _correction(record: str, field: str) -> dict[str, Any]:
    (found,) = [c for c in _records("corrections.json") if c["record"] == record and c["field"] == field]
    return found


def test_each_correction_says_what_upstream_had_and_why() -> None:
    latest = _correction("gemini/gemini-1.5-pro-latest", "output_per_million")
    assert (latest["upstream"], latest["value"], latest["action"]) == ("1.05", "10.5", "corrected")
    assert "siblings" in latest["reason"]
    for model in ("gemini-1.5-flash-preview-0514", "gemini-1.5-flash-exp-0827"):
        fixed = _correction(f"vertex_ai-gemini-models/{model}", "output_per_million")
        assert (fixed["upstream"], fixed["value"]) == ("0.0046875", "0.075")
        assert "per-character price" in fixed["reason"]
    rerank = _correction("bedrock/amazon.rerank-v1:0", "input_per_million")
    assert (rerank["upstream"], rerank["value"], rerank["action"]) == ("0", None, "rejected")
    empty = _correction("fireworks_ai-embedding-models/fireworks_ai/accounts/fireworks/models/", "model_id")
    assert (empty["upstream"], empty["action"]) == ("accounts/fireworks/models/", "rejected")
    moved = [c for c in _records("corrections.json") if c["field"] == "provider"]
    assert {(c["upstream"], c["value"]) for c in moved} == {("fireworks_ai-embedding-models", "fireworks_ai")}
    assert len(moved) == 248
    assert _correction("vllm reasoning exact deepseek-ai/DeepSeek-R1", "pattern")["action"] == "added"
    assert all(c["reason"].strip() for c in _records("corrections.json"))


def test_no_seeded_text_model_charges_less_for_output_than_for_input() -> None:
    cheaper = [
        (r["provider"], r["model_id"])
        for r in _records("provider_models.json")
        if r["mode"] in {"chat", "completion", "responses"}
        and r["input_per_million"] is not None
        and r["output_per_million"] is not None
        and Decimal(r["output_per_million"]) < Decimal(r["input_per_million"])
    ]
    assert cheaper == []


PROVIDER_MODEL = """
query ($provider: String!, $search: String!) {
  providerModels(filter: {providerSlugs: [$provider], search: $search}) {
    nodes {
      modelId mode inputPerMillion outputPerMillion pricePerQuery source sourceUrl
      priceTiers { aboveInputTokens inputPerMillion outputPerMillion cacheReadPerMillion cacheWritePerMillion }
    }
  }
}
"""
FIREWORKS = """
{
  all: providerModels(filter: {providerSlugs: ["fireworks_ai"]}) { totalCount }
  chat: providerModels(filter: {providerSlugs: ["fireworks_ai"], modes: [CHAT]}) { totalCount }
  old: provider(slug: "fireworks_ai-embedding-models") { slug }
  fireworks: provider(slug: "fireworks_ai") { name homepageUrl }
  named: providerModels(filter: {search: "accounts/fireworks/models/"}, first: 100) { nodes { modelId } }
}
"""
HARDWARE = """
query ($sku: String!) { hardwareSku(sku: $sku) { name memoryGb devicesPerPackage memoryBandwidthGbps peakBf16Tflops } }
"""
MEMORY_DESCRIPTION = '{ __type(name: "Hardware") { fields { name description } } }'
TEMPLATES = "{ parserRules(first: 100) { nodes { pattern chatTemplate } } }"


async def _model(client: GraphQLClient, provider: str, model_id: str) -> dict[str, Any]:
    nodes = (await client.data(PROVIDER_MODEL, {"provider": provider, "search": model_id}))["providerModels"][
        "nodes"
    ]
    (node,) = [n for n in nodes if n["modelId"] == model_id]
    return node  # type: ignore[no-any-return]


async def test_the_seed_serves_the_corrected_facts(session: RequestSession, client: GraphQLClient) -> None:
    await seed(session)
    await session.commit()

    # rerank: priced per query, no made-up per-token price
    rerank = await _model(client, "bedrock", "amazon.rerank-v1:0")
    assert (rerank["mode"], rerank["pricePerQuery"], rerank["inputPerMillion"], rerank["outputPerMillion"]) == (
        "RERANK", "0.001", None, None,
    )  # fmt: skip
    # long-prompt tiers, and the typo fixed from the siblings
    latest = await _model(client, "gemini", "gemini-1.5-pro-latest")
    assert (latest["inputPerMillion"], latest["outputPerMillion"]) == ("3.5", "10.5")
    assert latest["priceTiers"] == [
        {"aboveInputTokens": 128000, "inputPerMillion": "7", "outputPerMillion": "21",
         "cacheReadPerMillion": None, "cacheWritePerMillion": None},
    ]  # fmt: skip
    assert latest["source"].startswith("bud-connect")
    assert latest["sourceUrl"].startswith("https://github.com/")
    tiered = [r for r in _records("provider_models.json") if r["price_tiers"]]
    assert len(tiered) == 83
    assert {t["above_input_tokens"] for r in tiered for t in r["price_tiers"]} == {128000, 200000}
    preview = await _model(client, "vertex_ai-gemini-models", "gemini-1.5-flash-preview-0514")
    assert (preview["inputPerMillion"], preview["outputPerMillion"]) == ("0.075", "0.075")

    # Fireworks' models under Fireworks, and no model without a name
    fireworks = await client.data(FIREWORKS)
    assert (fireworks["all"]["totalCount"], fireworks["chat"]["totalCount"], fireworks["old"]) == (
        248,
        238,
        None,
    )
    assert fireworks["fireworks"] == {"name": "Fireworks", "homepageUrl": "https://fireworks.ai"}
    named = [n["modelId"] for n in fireworks["named"]["nodes"]]
    assert named
    assert [m for m in named if m.endswith("/")] == []

    # the 16 chat templates of the parser rules
    rules = (await client.data(TEMPLATES))["parserRules"]["nodes"]
    assert len([r for r in rules if r["chatTemplate"]]) == 16

    # hardware: a named unit, what a runtime sees, Intel's bf16 figure
    fields = {
        f["name"]: f["description"] for f in (await client.data(MEMORY_DESCRIPTION))["__type"]["fields"]
    }
    assert "memoryGib" not in fields
    assert "in GB as the vendor's datasheet states it" in fields["memoryGb"]
    mi250x = (await client.data(HARDWARE, {"sku": "amd-instinct-mi250x-128gb"}))["hardwareSku"]
    assert (mi250x["memoryGb"], mi250x["devicesPerPackage"], mi250x["memoryBandwidthGbps"]) == (
        "64",
        2,
        "1638.4",
    )
    gaudi2 = (await client.data(HARDWARE, {"sku": "intel-gaudi2-96gb"}))["hardwareSku"]
    assert gaudi2["peakBf16Tflops"] == "432"
    h100 = (await client.data(HARDWARE, {"sku": "nvidia-h100-sxm5-80gb"}))["hardwareSku"]
    assert (h100["memoryGb"], h100["devicesPerPackage"]) == ("80", 1)
