"""Operators' writes of quantization support and releases through the API: typed errors that change
nothing, and edits a re-applied release keeps."""

from __future__ import annotations

from typing import Any

from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests.conftest import GraphQLClient
from tests.releases.facts import given_vllm_builds

SET = """
mutation ($id: ID!, $input: QuantizationSupportInput!) {
  setQuantizationSupport(engineVersionId: $id, input: $input) { method minComputeCapability origin }
}
"""
DELETE_SUPPORT = "mutation ($id: ID!) { deleteQuantizationSupport(id: $id) { deletedId alsoDeletedIds } }"
DELETE_RELEASE = "mutation ($id: ID!) { deleteUpstreamRelease(id: $id) { deletedId alsoDeletedIds } }"
APPLY = """
mutation ($id: ID!, $release: ID!) {
  applyUpstreamRelease(engineVersionId: $id, releaseId: $release) {
    withdrawnQuantization quantizationSupport { id method origin minComputeCapability }
  }
}
"""
VERSION = "{ registryVersion }"


async def _version(client: GraphQLClient) -> int:
    version: int = (await client.data(VERSION))["registryVersion"]
    return version


def _errors(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]]


async def test_an_operators_quantization_row_and_removal_survive_re_applying(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    world = await given_vllm_builds(session)
    cuda = to_global_id("EngineVersion", world["cuda"].id)
    release = to_global_id("UpstreamRelease", world["release"].id)
    rows = (await client.data(APPLY, {"id": cuda, "release": release}, token=writer_token))[
        "applyUpstreamRelease"
    ]["quantizationSupport"]
    awq = next(row["id"] for row in rows if row["method"] == "awq")

    # when an operator removes awq and says fp8 needs 9.0 here
    await client.data(DELETE_SUPPORT, {"id": awq}, token=writer_token)
    made = await client.data(
        SET, {"id": cuda, "input": {"method": "fp8", "minComputeCapability": "9.0"}}, token=writer_token
    )
    assert made["setQuantizationSupport"] == {"method": "fp8", "minComputeCapability": "9.0", "origin": "API"}

    # then re-applying the release keeps both edits, and changes nothing else
    before = await _version(client)
    again = (await client.data(APPLY, {"id": cuda, "release": release}, token=writer_token))[
        "applyUpstreamRelease"
    ]
    assert again["withdrawnQuantization"] == ["awq"]
    assert [(r["method"], r["origin"], r["minComputeCapability"]) for r in again["quantizationSupport"]] == [
        ("fp8", "API", "9.0"),
        ("gguf", "RELEASE", "6.0"),
        ("gptq", "RELEASE", "6.0"),
    ]
    assert await _version(client) == before


async def test_bad_writes_are_typed_errors_that_change_nothing(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    world = await given_vllm_builds(session)
    cuda = to_global_id("EngineVersion", world["cuda"].id)
    before = await _version(client)
    cases = [
        (
            SET,
            {"id": cuda, "input": {"method": "fp8", "minComputeCapability": "9"}},
            ("BAD_USER_INPUT", "minComputeCapability"),
        ),
        (SET, {"id": cuda, "input": {"method": "FP 8"}}, ("BAD_USER_INPUT", "method")),
        (
            SET,
            {"id": to_global_id("EngineVersion", 999999), "input": {"method": "fp8"}},
            ("NOT_FOUND", "engineVersionId"),
        ),
        (
            APPLY,
            {"id": cuda, "release": to_global_id("UpstreamRelease", 999999)},
            ("NOT_FOUND", "releaseId"),
        ),
        (DELETE_RELEASE, {"id": to_global_id("UpstreamRelease", world["release"].id)}, ("CONFLICT", "id")),
    ]
    for query, variables, expected in cases:
        body = await client.execute(query, variables, token=writer_token)
        assert body["data"] is None, variables
        assert _errors(body) == [expected], variables
    assert await _version(client) == before
    # without a key, nothing is written either
    assert await client.error_codes(SET, {"id": cuda, "input": {"method": "fp8"}}) == ["UNAUTHENTICATED"]


async def test_a_release_no_version_packages_goes_with_what_it_declares(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    from budgraph.releases import service
    from tests.releases.facts import vllm

    await given_vllm_builds(session)
    newer = (await service.record_release(session, vllm("0.8.5", drop_mpt=True))).release
    await session.commit()
    deleted = (
        await client.data(
            DELETE_RELEASE, {"id": to_global_id("UpstreamRelease", newer.id)}, token=writer_token
        )
    )["deleteUpstreamRelease"]
    assert deleted["deletedId"] == to_global_id("UpstreamRelease", newer.id)
    kinds = sorted({gid_kind(i) for i in deleted["alsoDeletedIds"]})
    assert kinds == ["UpstreamArchitecture", "UpstreamDroppedArchitecture", "UpstreamQuantization"]
    assert len(deleted["alsoDeletedIds"]) == 5 + 1 + 5
    found = await client.data('{ upstreamRelease(engine: "vllm", version: "0.8.5") { version } }')
    assert found["upstreamRelease"] is None


def gid_kind(global_id: str) -> str:
    from budgraph.kit.ids import from_global_id

    return from_global_id(global_id)[0]
