"""A runtime that keeps a copy of the registry by syncing the change feed ends with exactly the registry,
even when writes, compatibility changes and deletions happen while it pages through the feed; and
concurrent writes leave a feed whose values before and after chain exactly."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx

from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import RequestSession
from budgraph.registry.repository import current_version
from docs.sync_client import RegistrySync
from tests.conftest import GraphQLClient, live_key
from tests.graph.sync_reads import full_read, registry_ids
from tests.live import LiveServer

SETUP = """
mutation {
  vllm: createEngine(input: {slug: "vllm", name: "vLLM"}) { id }
  sglang: createEngine(input: {slug: "sglang", name: "SGLang"}) { id }
  llama: createModelArchitecture(input: {className: "LlamaForCausalLM", family: "llama"}) { id }
  qwen: createModelArchitecture(input: {className: "Qwen2ForCausalLM", family: "qwen2"}) { id }
  mistral: createModelArchitecture(input: {className: "MistralForCausalLM", family: "mistral"}) { id }
  aws: createProvider(input: {slug: "aws", name: "AWS", kind: COMPUTE_CLOUD}) { id }
  h100: createHardware(input: {sku: "nvidia-h100", name: "H100", vendor: "nvidia", deviceArchitecture: CUDA}) { id }
  l4: createHardware(input: {sku: "nvidia-l4", name: "L4", vendor: "nvidia", deviceArchitecture: CUDA}) { id }
}
"""
VERSION = """
mutation ($engine: ID!, $version: String!, $archs: [String!]!) {
  createEngineVersion(input: {engineId: $engine, version: $version, deviceArchitecture: CUDA,
                              containerImage: "img", architectures: $archs}) { id }
}
"""


def writes(client: GraphQLClient, token: str, ids: dict[str, str]) -> Iterator[Callable[[], Awaitable[Any]]]:
    """Writes an operator makes while the runtime syncs: creations, edits, compatibility, deletions."""

    async def run(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await client.data(query, variables, token=token)

    async def version(engine: str, number: str, archs: list[str]) -> None:
        created = await run(VERSION, {"engine": ids[engine], "version": number, "archs": archs})
        ids[f"{engine} {number}"] = created["createEngineVersion"]["id"]

    yield lambda: version("vllm", "0.8.0", ["LlamaForCausalLM", "Qwen2ForCausalLM"])
    yield lambda: version("vllm", "0.9.0", ["LlamaForCausalLM"])
    yield lambda: version("sglang", "0.4.0", ["Qwen2ForCausalLM", "MistralForCausalLM"])
    yield lambda: run(
        'mutation ($id: ID!) { addCompatibility(engineVersionId: $id, architectures: ["MistralForCausalLM"]) { id } }',
        {"id": ids["vllm 0.9.0"]},
    )
    yield lambda: run(
        'mutation ($id: ID!) { removeCompatibility(engineVersionId: $id, architectures: ["LlamaForCausalLM"]) { id } }',
        {"id": ids["vllm 0.8.0"]},
    )

    async def rule() -> None:
        created = await run(
            'mutation ($e: ID!) { createParserRule(input: {engineId: $e, ruleType: TOOL, parser: "hermes",'
            ' matchType: PREFIX, pattern: "Qwen/"}) { id } }',
            {"e": ids["sglang"]},
        )
        ids["rule"] = created["createParserRule"]["id"]

    yield rule
    yield lambda: run(
        'mutation ($id: ID!) { updateEngine(id: $id, input: {name: "vLLM project"}) { id } }',
        {"id": ids["vllm"]},
    )

    async def prices() -> None:
        for sku, region in [
            ("nvidia-h100", "us-east-1"),
            ("nvidia-h100", "eu-west-1"),
            ("nvidia-l4", "us-east-1"),
        ]:
            await run(
                "mutation ($sku: String!, $region: String!) { setHardwarePrice(input: {sku: $sku,"
                ' providerSlug: "aws", region: $region, instanceType: "p5", onDemandPerHour: "4.5",'
                ' asOf: "2025-05-01"}) { id } }',
                {"sku": sku, "region": region},
            )

    yield prices

    async def provider_models() -> None:
        for model_id in ["claude", "titan"]:
            created = await run(
                "mutation ($p: ID!, $m: String!) { createProviderModel(input: {providerId: $p, modelId: $m,"
                ' mode: CHAT, inputPerMillion: "3"}) { id } }',
                {"p": ids["aws"], "m": model_id},
            )
            ids[model_id] = created["createProviderModel"]["id"]

    yield provider_models
    yield lambda: run(
        'mutation ($id: ID!) { updateProviderModel(id: $id, input: {inputPerMillion: "2.5"}) { id } }',
        {"id": ids["claude"]},
    )
    yield lambda: run(
        "mutation ($id: ID!) { deleteProviderModel(id: $id) { deletedId } }", {"id": ids["titan"]}
    )
    yield lambda: run("mutation ($id: ID!) { deleteHardware(id: $id) { deletedId } }", {"id": ids["h100"]})
    yield lambda: run("mutation ($id: ID!) { deleteParserRule(id: $id) { deletedId } }", {"id": ids["rule"]})
    yield lambda: run(
        "mutation ($id: ID!) { deleteEngineVersion(id: $id) { deletedId } }", {"id": ids["sglang 0.4.0"]}
    )
    yield lambda: run("mutation ($id: ID!) { deleteEngine(id: $id) { deletedId } }", {"id": ids["sglang"]})
    yield lambda: run(
        'mutation ($id: ID!) { updateHardware(id: $id, input: {memoryGb: "22"}) { id } }', {"id": ids["l4"]}
    )


async def test_a_runtime_syncing_the_feed_ends_with_the_registry(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given a registry and a runtime (docs/sync_client.py) that synced it
    created = await client.data(SETUP, token=writer_token)
    ids = {name: value["id"] for name, value in created.items()}
    runtime = RegistrySync(client.http, page_size=3)
    await runtime.sync()
    assert runtime.copy.entities == await full_read(client.http, await registry_ids(session))

    # when an operator writes while the runtime pages through the feed (a write after every page)
    pending = list(writes(client, writer_token, ids))

    async def write_once() -> None:
        if pending:
            await pending.pop(0)()

    rounds = 0
    while True:
        seen = await runtime.sync(write_once)
        rounds += 1
        if seen == 0 and not pending:
            break

    # then the runtime's copy is the registry, deletions included, at the registry's version
    truth = await full_read(client.http, await registry_ids(session))
    assert runtime.copy.entities == truth
    assert runtime.copy.version == await current_version(session)
    kinds = sorted(node["__typename"] for node in truth.values())
    assert kinds == sorted(
        ["CompatibilityEdge"] * 3
        + [
            "Engine",
            "EngineVersion",
            "EngineVersion",
            "Hardware",
            "HardwarePrice",
            "ModelArchitecture",
            "ModelArchitecture",
            "ModelArchitecture",
            "Provider",
            "ProviderModel",
        ]
    )
    served = {
        node["version"]: sorted(
            truth[edge["architecture"]["id"]]["className"]
            for edge in truth.values()
            if edge["__typename"] == "CompatibilityEdge" and edge["engineVersion"]["id"] == node["id"]
        )
        for node in truth.values()
        if node["__typename"] == "EngineVersion"
    }
    assert served == {"0.8.0": ["Qwen2ForCausalLM"], "0.9.0": ["LlamaForCausalLM", "MistralForCausalLM"]}
    assert rounds > 2


async def test_concurrent_compatibility_changes_chain_exactly(live: LiveServer, live_url: str) -> None:
    # given a version (served for real) and twelve architectures
    key = await live_key(live_url, "operator", ApiKeyScope.WRITE)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=live.http, headers=headers, timeout=30) as http:

        async def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body: dict[str, Any] = (
                await http.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert body.get("errors") is None, body
            return body["data"]

        engine = (await post('mutation { createEngine(input: {slug: "vllm", name: "vLLM"}) { id } }'))[
            "createEngine"
        ]
        version = (await post(VERSION, {"engine": engine["id"], "version": "1.0.0", "archs": []}))[
            "createEngineVersion"
        ]["id"]
        names = [f"Arch{i}ForCausalLM" for i in range(12)]
        for name in names:
            await post(
                "mutation ($n: String!) { createModelArchitecture(input: {className: $n}) { id } }",
                {"n": name},
            )

        # when twelve operators each add one architecture at the same time
        add = "mutation ($id: ID!, $a: [String!]!) { addCompatibility(engineVersionId: $id, architectures: $a) { id } }"
        await asyncio.gather(*(post(add, {"id": version, "a": [name]}) for name in names))

        # then the version's changes chain: each starts where the one before it ended
        audit = await post(
            '{ changes(since: 0, kinds: ["EngineVersion"]) { changes { operation fieldChanges { field before after } } } }'
        )
    updates = [c["fieldChanges"][0] for c in audit["changes"]["changes"] if c["operation"] == "UPDATE"]
    assert len(updates) == 12
    assert updates[0]["before"] == []
    for earlier, later in itertools.pairwise(updates):
        assert later["before"] == earlier["after"]
        assert len(later["after"]) == len(later["before"]) + 1
    assert len(updates[-1]["after"]) == 12


async def test_concurrent_edits_of_one_row_lose_nothing_and_chain(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "operator", ApiKeyScope.WRITE)
    async with httpx.AsyncClient(
        base_url=live.http, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:

        async def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body: dict[str, Any] = (
                await http.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert body.get("errors") is None, body
            return body["data"]

        engine = (await post('mutation { createEngine(input: {slug: "vllm", name: "vLLM"}) { id } }'))[
            "createEngine"
        ]

        # when operators edit the name and the homepage of one engine at the same time
        rename = "mutation ($id: ID!, $v: String!) { updateEngine(id: $id, input: {name: $v}) { id } }"
        rehome = "mutation ($id: ID!, $v: String!) { updateEngine(id: $id, input: {homepageUrl: $v}) { id } }"
        await asyncio.gather(
            *(post(rename, {"id": engine["id"], "v": f"vLLM {i}"}) for i in range(6)),
            *(post(rehome, {"id": engine["id"], "v": f"https://vllm.ai/{i}"}) for i in range(6)),
        )
        final = await post("query ($id: ID!) { engine(id: $id) { name homepageUrl editedFields } }", engine)
        audit = await post(
            '{ changes(since: 1, kinds: ["Engine"]) { changes { fieldChanges { field before after } } } }'
        )

    # then both edits are remembered (re-seeding keeps both), and each field's changes chain
    assert final["engine"]["editedFields"] == ["homepage_url", "name"]
    changes = [c["fieldChanges"] for c in audit["changes"]["changes"]]
    assert len(changes) == 12
    for name, first_before, last_after in (
        ("name", "vLLM", final["engine"]["name"]),
        ("homepage_url", None, final["engine"]["homepageUrl"]),
    ):
        chain = [change[0] for change in changes if change[0]["field"] == name]
        assert len(chain) == 6
        assert chain[0]["before"] == first_before
        assert chain[-1]["after"] == last_after
        for earlier, later in itertools.pairwise(chain):
            assert later["before"] == earlier["after"]
