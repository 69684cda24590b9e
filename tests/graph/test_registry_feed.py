"""The registry version grows once per write transaction; the change feed tells runtimes what changed."""

from __future__ import annotations

from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient

CHANGES = """
query ($since: BigInt!, $after: String, $first: Int!, $kinds: [String!]) {
  changes(since: $since, after: $after, first: $first, kinds: $kinds) {
    registryVersion hasMore endCursor
    changes { registryVersion entityKind entityId operation changedFields actor }
  }
}
"""
UPDATE_VERSION = """
mutation ($id: ID!, $image: String!) { updateEngineVersion(id: $id, input: {containerImage: $image}) { containerImage editedFields } }
"""


async def test_each_write_bumps_the_version_once_and_logs_each_entity(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm, "0.8.0")
    await session.commit()
    assert await client.data("{ registryVersion }") == {"registryVersion": 0}

    data = await client.data(
        UPDATE_VERSION,
        {"id": to_global_id("EngineVersion", version.id), "image": "vllm/vllm-openai:v0.8.0"},
        token=writer_token,
    )
    assert data == {
        "updateEngineVersion": {
            "containerImage": "vllm/vllm-openai:v0.8.0",
            "editedFields": ["container_image"],
        }
    }
    assert await client.data("{ registryVersion }") == {"registryVersion": 1}
    feed = (await client.data(CHANGES, {"since": 0, "first": 10}))["changes"]
    assert feed["registryVersion"] == 1
    assert feed["hasMore"] is False
    assert feed["changes"] == [
        {
            "registryVersion": 1,
            "entityKind": "EngineVersion",
            "entityId": to_global_id("EngineVersion", version.id),
            "operation": "UPDATE",
            "changedFields": ["container_image"],
            "actor": "test-writer",
        }
    ]
    # reads and no-op writes leave the version alone
    await client.data(
        UPDATE_VERSION,
        {"id": to_global_id("EngineVersion", version.id), "image": "vllm/vllm-openai:v0.8.0"},
        token=writer_token,
    )
    assert await client.data("{ registryVersion }") == {"registryVersion": 1}
    assert (await client.data(CHANGES, {"since": 1, "first": 10}))["changes"]["changes"] == []


async def test_feed_pages_through_a_large_version(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm, "0.8.0")
    for i in range(7):
        await factories.architecture(session, f"Arch{i}ForCausalLM")
    await session.commit()
    mutation = """
    mutation ($id: ID!, $archs: [String!]!) { addCompatibility(engineVersionId: $id, architectures: $archs) { id } }
    """
    await client.data(
        mutation,
        {"id": to_global_id("EngineVersion", version.id), "archs": [f"Arch{i}ForCausalLM" for i in range(7)]},
        token=writer_token,
    )
    seen: list[str] = []
    after = None
    while True:
        feed = (await client.data(CHANGES, {"since": 0, "first": 3, "after": after}))["changes"]
        seen += [f"{c['entityKind']}:{c['operation']}" for c in feed["changes"]]
        after = feed["endCursor"]
        if not feed["hasMore"]:
            break
    assert seen == ["CompatibilityEdge:CREATE"] * 7
    only = (await client.data(CHANGES, {"since": 0, "first": 10, "kinds": ["EngineVersion"]}))["changes"]
    assert only["changes"] == []
    assert await client.error_codes(CHANGES, {"since": 0, "first": 101}) == ["PAGE_SIZE_EXCEEDED"]
    assert await client.error_codes(CHANGES, {"since": 0, "first": 1, "after": "zz"}) == ["INVALID_CURSOR"]
