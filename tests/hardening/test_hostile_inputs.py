"""Input checked at the boundary: the hostile reads and writes that used to be 500s, one by one.

Given hostile values (NUL characters, lone surrogates, keys past 2^63 inside global ids, NaN,
Infinity and 5,000-digit decimals, 70-bit integers, huge cursors, megabyte strings, 100,000-item
lists, `javascript:` URLs), when they are sent as literals or as variables, then each gets a
BAD_USER_INPUT (or INVALID_ID / INVALID_CURSOR) naming the field, nothing is stored, and the
server keeps answering.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from budgraph.kit.db import RequestSession
from tests import factories
from tests.conftest import GraphQLClient


def gid(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


READS: list[tuple[str, str, dict[str, Any], str, str | None]] = [
    # name, document, variables, expected code, expected field
    (
        "NUL in a slug argument",
        "query ($s: String) { engine(slug: $s) { id } }",
        {"s": "vl\x00lm"},
        "BAD_USER_INPUT",
        "engine.slug",
    ),
    ("NUL in a literal", '{ engine(slug: "vl\\u0000lm") { id } }', {}, "BAD_USER_INPUT", "engine.slug"),
    (
        "NUL in a filter",
        "query ($f: EngineFilter) { engines(filter: $f) { totalCount } }",
        {"f": {"search": "\x00"}},
        "BAD_USER_INPUT",
        "engines.filter.search",
    ),
    (
        "NUL in a list of slugs",
        "query ($f: EngineFilter) { engines(filter: $f) { totalCount } }",
        {"f": {"slugs": ["ok", "b\x00d"]}},
        "BAD_USER_INPUT",
        "engines.filter.slugs.1",
    ),
    (
        "a lone surrogate",
        "query ($s: String) { engine(slug: $s) { id } }",
        {"s": "\ud800"},
        "BAD_USER_INPUT",
        "engine.slug",
    ),
    (
        "NUL in a model id",
        "query ($m: String) { compatibleEngineVersions(model: $m) { totalCount } }",
        {"m": "org/\x00"},
        "BAD_USER_INPUT",
        "compatibleEngineVersions.model",
    ),
    (
        "a 10,000-character search",
        "query ($f: EngineFilter) { engines(filter: $f) { totalCount } }",
        {"f": {"search": "x" * 10_000}},
        "BAD_USER_INPUT",
        "engines.filter.search",
    ),
    (
        "a key of 2^63 in an id",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Engine", 2**63)},
        "INVALID_ID",
        None,
    ),
    (
        "a key of 2^70 in an id",
        "query ($id: ID!) { engine(id: $id) { id } }",
        {"id": gid("Engine", 2**70)},
        "INVALID_ID",
        None,
    ),
    (
        "a 5,000-digit key in an id",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Engine", "9" * 5000)},
        "BAD_USER_INPUT",
        "node.id",
    ),
    (
        "a negative key",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Engine", -1)},
        "INVALID_ID",
        None,
    ),
    (
        "an id of 2^63 - 1 (valid, absent)",
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Engine", 2**63 - 1)},
        "",
        None,
    ),
    (
        "since past 64 bits",
        "query ($s: BigInt!) { changes(since: $s) { registryVersion } }",
        {"s": 2**70},
        "BAD_USER_INPUT",
        "changes.since",
    ),
    (
        "since as a float",
        "query ($s: BigInt!) { changes(since: $s) { registryVersion } }",
        {"s": 1.5},
        "BAD_USER_INPUT",
        "changes.since",
    ),
    (
        "since as a literal past 64 bits",
        "{ changes(since: 99999999999999999999999) { registryVersion } }",
        {},
        "BAD_USER_INPUT",
        "changes.since",
    ),
    (
        "a huge cursor offset",
        "query ($a: String) { engines(after: $a) { totalCount } }",
        {"a": cursor("offset:99999999999999999999")},
        "INVALID_CURSOR",
        None,
    ),
    (
        "a cursor that is not base64",
        "query ($a: String) { engines(after: $a) { totalCount } }",
        {"a": "%%%"},
        "INVALID_CURSOR",
        None,
    ),
    (
        "a 100,000-item list",
        "query ($f: EngineFilter) { engines(filter: $f) { totalCount } }",
        {"f": {"slugs": ["a"] * 100_000}},
        "PAYLOAD_TOO_LARGE",
        None,
    ),
    (
        "a 101-item list",
        "query ($f: EngineFilter) { engines(filter: $f) { totalCount } }",
        {"f": {"slugs": ["a"] * 101}},
        "BAD_USER_INPUT",
        "engines.filter.slugs",
    ),
    (
        "101 ids",
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [gid("Engine", 1)] * 101},
        "BAD_USER_INPUT",
        "nodes.ids",
    ),
    (
        "first past 32 bits",
        "{ engines(first: 99999999999) { totalCount } }",
        {},
        "GRAPHQL_VALIDATION_FAILED",
        None,
    ),
]


@pytest.mark.parametrize(("name", "document", "variables", "code", "field"), READS, ids=[r[0] for r in READS])
async def test_hostile_reads(
    client: GraphQLClient, name: str, document: str, variables: dict[str, Any], code: str, field: str | None
) -> None:
    response = await client.post(document, variables)
    assert response.status_code in (200, 413), response.text
    body = response.json()
    if not code:
        assert body.get("errors") is None, body
        return
    errors = body["errors"]
    assert errors[0]["extensions"]["code"] == code, body
    assert all(e["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for e in errors)
    if field is not None:
        assert errors[0]["extensions"]["field"] == field
    assert (await client.data("{ registryVersion }"))["registryVersion"] >= 0


CREATE_ENGINE = "mutation ($input: CreateEngineInput!) { createEngine(input: $input) { id } }"
CREATE_VERSION = "mutation ($input: CreateEngineVersionInput!) { createEngineVersion(input: $input) { id } }"
SET_PRICE = "mutation ($input: SetHardwarePriceInput!) { setHardwarePrice(input: $input) { id } }"
ENGINE = {"slug": "ok-engine", "name": "OK"}

WRITES: list[tuple[str, str, dict[str, Any], str, str | None]] = [
    (
        "a NUL in a slug",
        CREATE_ENGINE,
        {"input": {**ENGINE, "slug": "a\x00b"}},
        "BAD_USER_INPUT",
        "createEngine.input.slug",
    ),
    (
        "a 1 MB slug",
        CREATE_ENGINE,
        {"input": {**ENGINE, "slug": "a" * 200_000}},
        "BAD_USER_INPUT",
        "createEngine.input.slug",
    ),
    (
        "a 10 MB name",
        CREATE_ENGINE,
        {"input": {**ENGINE, "name": "n" * 10_000_000}},
        "PAYLOAD_TOO_LARGE",
        None,
    ),
    (
        "a 2,000-character name",
        CREATE_ENGINE,
        {"input": {**ENGINE, "name": "n" * 2000}},
        "BAD_USER_INPUT",
        "createEngine.input.name",
    ),
    (
        "a javascript: homepage",
        CREATE_ENGINE,
        {"input": {**ENGINE, "homepageUrl": "javascript:alert(1)"}},
        "BAD_USER_INPUT",
        "createEngine.input.homepageUrl",
    ),
    (
        "a data: homepage",
        CREATE_ENGINE,
        {"input": {**ENGINE, "homepageUrl": "data:text/html,<b>x</b>"}},
        "BAD_USER_INPUT",
        "createEngine.input.homepageUrl",
    ),
    (
        "an ftp homepage",
        CREATE_ENGINE,
        {"input": {**ENGINE, "homepageUrl": "ftp://example.com"}},
        "BAD_USER_INPUT",
        "createEngine.input.homepageUrl",
    ),
    (
        "a homepage without a host",
        CREATE_ENGINE,
        {"input": {**ENGINE, "homepageUrl": "https://"}},
        "BAD_USER_INPUT",
        "createEngine.input.homepageUrl",
    ),
    (
        "a literal javascript: homepage",
        'mutation { createEngine(input: {slug: "x", name: "x", homepageUrl: "javascript:1"}) { id } }',
        {},
        "BAD_USER_INPUT",
        "createEngine.input.homepageUrl",
    ),
    (
        "100,000 architectures",
        CREATE_VERSION,
        {
            "input": {
                "engineId": "ENGINE",
                "version": "1.0.0",
                "deviceArchitecture": "CUDA",
                "containerImage": "i",
                "architectures": [f"A{i}" for i in range(100_000)],
            }
        },
        "PAYLOAD_TOO_LARGE",
        None,
    ),
    (
        "1,001 architectures",
        CREATE_VERSION,
        {
            "input": {
                "engineId": "ENGINE",
                "version": "1.0.0",
                "deviceArchitecture": "CUDA",
                "containerImage": "i",
                "architectures": [f"A{i}" for i in range(1001)],
            }
        },
        "BAD_USER_INPUT",
        "createEngineVersion.input.architectures",
    ),
    (
        "a NUL in an architecture",
        CREATE_VERSION,
        {
            "input": {
                "engineId": "ENGINE",
                "version": "1.0.0",
                "deviceArchitecture": "CUDA",
                "containerImage": "i",
                "architectures": ["Ok", "B\x00d"],
            }
        },
        "BAD_USER_INPUT",
        "createEngineVersion.input.architectures.1",
    ),
    (
        "a NaN price",
        SET_PRICE,
        {
            "input": {
                "sku": "h100",
                "providerSlug": "aws",
                "region": "us",
                "instanceType": "p5",
                "onDemandPerHour": "NaN",
            }
        },
        "BAD_USER_INPUT",
        "setHardwarePrice.input.onDemandPerHour",
    ),
    (
        "an Infinity price",
        SET_PRICE,
        {
            "input": {
                "sku": "h100",
                "providerSlug": "aws",
                "region": "us",
                "instanceType": "p5",
                "onDemandPerHour": "Infinity",
            }
        },
        "BAD_USER_INPUT",
        "setHardwarePrice.input.onDemandPerHour",
    ),
    (
        "a 5,000-digit price",
        SET_PRICE,
        {
            "input": {
                "sku": "h100",
                "providerSlug": "aws",
                "region": "us",
                "instanceType": "p5",
                "onDemandPerHour": "1" * 5000,
            }
        },
        "BAD_USER_INPUT",
        "setHardwarePrice.input.onDemandPerHour",
    ),
    (
        "a price of 1e999999",
        SET_PRICE,
        {
            "input": {
                "sku": "h100",
                "providerSlug": "aws",
                "region": "us",
                "instanceType": "p5",
                "onDemandPerHour": "1e999999",
            }
        },
        "BAD_USER_INPUT",
        "setHardwarePrice.input.onDemandPerHour",
    ),
    (
        "a literal NaN price",
        'mutation { setHardwarePrice(input: {sku: "h", providerSlug: "p", region: "r", instanceType: "i", onDemandPerHour: "NaN"}) { id } }',
        {},
        "BAD_USER_INPUT",
        "setHardwarePrice.input.onDemandPerHour",
    ),
]


@pytest.mark.parametrize(
    ("name", "document", "variables", "code", "field"), WRITES, ids=[w[0] for w in WRITES]
)
async def test_hostile_writes_store_nothing(
    client: GraphQLClient,
    session: RequestSession,
    writer_token: str,
    name: str,
    document: str,
    variables: dict[str, Any],
    code: str,
    field: str | None,
) -> None:
    engine = await factories.engine(session, "vllm")
    await session.commit()
    if "input" in variables and variables["input"].get("engineId") == "ENGINE":
        variables = {"input": {**variables["input"], "engineId": gid("Engine", engine.id)}}
    before = await client.data("{ registryVersion engines { totalCount } engineVersions { totalCount } }")

    response = await client.post(document, variables, token=writer_token)
    assert response.status_code in (200, 413), response.text
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == code
    if field is not None:
        assert errors[0]["extensions"]["field"] == field
    assert (
        await client.data("{ registryVersion engines { totalCount } engineVersions { totalCount } }")
        == before
    )
