"""An identical repeat of a create gets the same answer every time, even 50 at once against the app
served for real; a create that differs from the existing row is a CONFLICT naming the field."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from budgraph.db.enums import ApiKeyScope
from tests.conftest import live_key
from tests.live import LiveServer, plain_dsn

CONCURRENT = 50


@dataclass(frozen=True)
class Create:
    mutation: str
    field_name: str
    variables: dict[str, Any]
    # A change to the input that makes it differ from the existing row, and the field it names.
    different: dict[str, Any] = field(default_factory=dict)
    names: str | None = None


SETUP = """
mutation {
  engine: createEngine(input: {slug: "base", name: "Base"}) { id }
  provider: createProvider(input: {slug: "cloud", name: "Cloud", kind: COMPUTE_CLOUD}) { id }
  hardware: createHardware(input: {sku: "acc-1", name: "Acc 1", vendor: "acme", deviceArchitecture: CUDA}) { id }
  arch: createModelArchitecture(input: {className: "LlamaForCausalLM"}) { id }
}
"""
VERSION = """
mutation ($engine: ID!) {
  createEngineVersion(input: {engineId: $engine, version: "1.0.0", deviceArchitecture: CUDA, containerImage: "x:1"}) { id }
}
"""


def creates(ids: dict[str, str]) -> dict[str, Create]:
    return {
        "createEngine": Create(
            "mutation ($input: CreateEngineInput!) { r: createEngine(input: $input) { id } }",
            "r",
            {"input": {"slug": "sglang", "name": "SGLang", "homepageUrl": "https://github.com/sgl-project/sglang"}},
            {"name": "SG Lang"},
            "name",
        ),
        "createEngineVersion": Create(
            "mutation ($input: CreateEngineVersionInput!) { r: createEngineVersion(input: $input) { id } }",
            "r",
            {"input": {"engineId": ids["engine"], "version": "0.4.6", "deviceArchitecture": "CUDA",
                       "containerImage": "lmsys/sglang:v0.4.6", "endpoints": ["CHAT"],
                       "architectures": ["LlamaForCausalLM"]}},
            {"endpoints": ["CHAT", "COMPLETION"]},
            "endpoints",
        ),
        "createModelArchitecture": Create(
            "mutation ($input: CreateModelArchitectureInput!) { r: createModelArchitecture(input: $input) { id } }",
            "r",
            {"input": {"className": "Qwen2ForCausalLM", "family": "qwen2", "supportsLora": True}},
            {"supportsLora": False},
            "supportsLora",
        ),
        "createParserRule": Create(
            "mutation ($input: CreateParserRuleInput!) { r: createParserRule(input: $input) { id } }",
            "r",
            {"input": {"engineId": ids["engine"], "ruleType": "TOOL", "parser": "hermes", "matchType": "PREFIX",
                       "pattern": "Qwen/Qwen2.5-", "chatTemplate": "examples/tool_chat_template_hermes.jinja"}},
            {"parser": "qwen25"},
            "parser",
        ),
        "addCompatibility": Create(
            "mutation ($id: ID!, $archs: [String!]!) { r: addCompatibility(engineVersionId: $id, architectures: $archs) { id } }",
            "r",
            {"id": ids["version"], "archs": ["LlamaForCausalLM"]},
        ),
        "createProvider": Create(
            "mutation ($input: CreateProviderInput!) { r: createProvider(input: $input) { id } }",
            "r",
            {"input": {"slug": "lambda", "name": "Lambda", "kind": "COMPUTE_CLOUD", "homepageUrl": "https://lambda.ai"}},
            {"kind": "MODEL_API"},
            "kind",
        ),
        "createProviderModel": Create(
            "mutation ($input: CreateProviderModelInput!) { r: createProviderModel(input: $input) { id } }",
            "r",
            {"input": {"providerId": ids["provider"], "modelId": "llama-3.1-8b", "mode": "CHAT",
                       "inputPerMillion": "0.1", "outputPerMillion": "0.2",
                       "priceTiers": [{"aboveInputTokens": 128000, "inputPerMillion": "0.2"}]}},
            {"outputPerMillion": "0.25"},
            "outputPerMillion",
        ),
        "createHardware": Create(
            "mutation ($input: CreateHardwareInput!) { r: createHardware(input: $input) { id } }",
            "r",
            {"input": {"sku": "nvidia-l4-24gb", "name": "NVIDIA L4", "vendor": "nvidia", "deviceArchitecture": "CUDA",
                       "memoryGb": "24", "computeCapability": "8.9"}},
            {"memoryGb": "22.5"},
            "memoryGb",
        ),
        "setHardwarePrice": Create(
            "mutation ($input: SetHardwarePriceInput!) { r: setHardwarePrice(input: $input) { id } }",
            "r",
            {"input": {"sku": "acc-1", "providerSlug": "cloud", "region": "us-east-1", "instanceType": "acc.8x",
                       "onDemandPerHour": "2.49", "devicesPerInstance": 8, "asOf": "2025-07-01"}},
        ),
    }  # fmt: skip


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _count_rows(url: str) -> dict[str, int]:
    import asyncpg

    connection = await asyncpg.connect(plain_dsn(url))
    try:
        tables = ["engine", "engine_version", "model_architecture", "parser_rule", "compatibility_edge",
                  "provider", "provider_model", "hardware", "hardware_price"]  # fmt: skip
        return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    finally:
        await connection.close()


@pytest.mark.parametrize(
    "name",
    [
        "createEngine",
        "createEngineVersion",
        "createModelArchitecture",
        "createParserRule",
        "addCompatibility",
        "createProvider",
        "createProviderModel",
        "createHardware",
        "setHardwarePrice",
    ],
)
async def test_fifty_identical_concurrent_creates_get_one_answer(
    live: LiveServer, live_url: str, name: str
) -> None:
    # given
    key = await live_key(live_url, "writer", ApiKeyScope.WRITE)
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=live.http, headers=headers, limits=limits, timeout=60) as http:
        setup = (await _post(http, SETUP, {}))["data"]
        ids = {k: v["id"] for k, v in setup.items()}
        version = await _post(http, VERSION, {"engine": ids["engine"]})
        ids["version"] = version["data"]["createEngineVersion"]["id"]
        create = creates(ids)[name]
        before = await _count_rows(live_url)

        # when
        answers = await asyncio.gather(
            *(_post(http, create.mutation, create.variables) for _ in range(CONCURRENT))
        )

        # then: fifty times the same answer, and one new row
        assert [a.get("errors") for a in answers] == [None] * CONCURRENT
        assert {a["data"][create.field_name]["id"] for a in answers} == {
            answers[0]["data"][create.field_name]["id"]
        }
        after = await _count_rows(live_url)
        grown = {table: after[table] - before[table] for table in after if after[table] != before[table]}
        assert sum(grown.values()) == (2 if name == "createEngineVersion" else 1), grown

        # and: a create that differs from the existing row is refused, naming the field
        if create.names is not None:
            changed = {**create.variables, "input": {**create.variables["input"], **create.different}}
            refused = await _post(http, create.mutation, changed)
            assert refused["data"] is None
            assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in refused["errors"]] == [
                ("CONFLICT", create.names)
            ]
            assert await _count_rows(live_url) == after
