"""Engines and engine versions: listing, latest-by-version-order, filters, mutations."""

from __future__ import annotations

from budgraph.kit.db import RequestSession
from tests import factories
from tests.conftest import GraphQLClient

LATEST = """
query ($engine: String!, $device: DeviceArchitecture) {
  latestEngineVersion(engine: $engine, deviceArchitecture: $device) { version deviceArchitecture containerImage }
}
"""

ENGINES = """
query ($first: Int, $after: String) {
  engines(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { slug versions(first: 2) { totalCount nodes { version } } latestVersion { version } }
  }
}
"""


async def test_latest_is_highest_version_not_newest_row(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given versions inserted out of order, the newest row being the lowest version
    vllm = await factories.engine(session, "vllm")
    for v in ["0.10.1", "0.9.2", "0.10.0rc1", "0.2.0"]:
        await factories.version(session, vllm, v)
    await factories.version(session, vllm, "0.11.0", device="ROCM")
    await factories.version(session, vllm, "0.12.0", status="yanked")
    await session.commit()

    # when / then
    data = await client.data(LATEST, {"engine": "vllm", "device": "CUDA"})
    assert data == {
        "latestEngineVersion": {
            "version": "0.10.1",
            "deviceArchitecture": "CUDA",
            "containerImage": "example/vllm-cuda:0.10.1",
        }
    }
    data = await client.data(LATEST, {"engine": "vllm"})
    assert data["latestEngineVersion"]["version"] == "0.11.0"
    data = await client.data(LATEST, {"engine": "nope"})
    assert data == {"latestEngineVersion": None}


async def test_engines_page_with_nested_versions(session: RequestSession, client: GraphQLClient) -> None:
    for slug in ["sglang", "vllm", "llamacpp"]:
        engine = await factories.engine(session, slug)
        for v in ["1.0.0", "1.2.0", "1.10.0"]:
            await factories.version(session, engine, v)
    await session.commit()

    data = await client.data(ENGINES, {"first": 2})
    page = data["engines"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert [n["slug"] for n in page["nodes"]] == ["llamacpp", "sglang"]
    assert page["nodes"][0]["versions"] == {
        "totalCount": 3,
        "nodes": [{"version": "1.10.0"}, {"version": "1.2.0"}],
    }
    assert page["nodes"][0]["latestVersion"] == {"version": "1.10.0"}

    data = await client.data(ENGINES, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [n["slug"] for n in data["engines"]["nodes"]] == ["vllm"]
    assert data["engines"]["pageInfo"]["hasNextPage"] is False
    assert data["engines"]["pageInfo"]["hasPreviousPage"] is True
