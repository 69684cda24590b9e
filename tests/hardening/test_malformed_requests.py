"""Malformed GraphQL-over-HTTP requests: every one gets a JSON answer with a stable code, never a 5xx.

Given requests that are not well-formed GraphQL-over-HTTP requests (bodies that are not JSON
objects, not UTF-8, empty, with parameters of the wrong type, batches, wrong methods and media
types), when each is sent, then the answer is JSON, its error has the expected code, its status is
the one the GraphQL-over-HTTP specification names, and a cheap query still answers afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.conftest import GraphQLClient

GOOD = {"query": "{ registryVersion }"}
JSON = {"Content-Type": "application/json"}
MODERN = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes | None
    status: int
    code: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = tuple(JSON.items())
    params: tuple[tuple[str, str], ...] = ()


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


CASES = [
    Case("a JSON string", b'"query"', 400, "BAD_REQUEST"),
    Case("a JSON number", b"42", 400, "BAD_REQUEST"),
    Case("JSON null", b"null", 400, "BAD_REQUEST"),
    Case("JSON true", b"true", 400, "BAD_REQUEST"),
    Case("not UTF-8", b'{"query": "\xff\xfe{ registryVersion }"}', 400, "BAD_REQUEST"),
    Case("Latin-1 text", '{"query": "{ é }"}'.encode("latin-1"), 400, "BAD_REQUEST"),
    Case("UTF-16 JSON", json.dumps(GOOD).encode("utf-16"), 400, "BAD_REQUEST"),
    Case("an empty body", b"", 400, "BAD_REQUEST"),
    Case("only whitespace", b"   \n ", 400, "BAD_REQUEST"),
    Case("invalid JSON", b'{"query": ', 400, "BAD_REQUEST"),
    Case("trailing garbage", b'{"query": "{ registryVersion }"} x', 400, "BAD_REQUEST"),
    Case(
        "NaN in variables", b'{"query": "{ registryVersion }", "variables": {"a": NaN}}', 400, "BAD_REQUEST"
    ),
    Case(
        "Infinity in variables",
        b'{"query": "{ registryVersion }", "variables": {"a": Infinity}}',
        400,
        "BAD_REQUEST",
    ),
    Case("a body over the size cap", b"[" * 150_000 + b"]" * 150_000, 413, "PAYLOAD_TOO_LARGE"),
    Case(
        "nested JSON under the size cap",
        b'{"variables": ' + b"[" * 50_000 + b"]" * 50_000 + b', "query": "{ registryVersion }"}',
        400,
        "BAD_REQUEST",
    ),
    Case("no query", _json({"variables": {}}), 400, "BAD_REQUEST"),
    Case("query null", _json({"query": None}), 400, "BAD_REQUEST"),
    Case("query a number", _json({"query": 1}), 400, "BAD_REQUEST"),
    Case("query a list", _json({"query": ["{ registryVersion }"]}), 400, "BAD_REQUEST"),
    Case("query an object", _json({"query": {"q": 1}}), 400, "BAD_REQUEST"),
    Case("variables a list", _json({**GOOD, "variables": [1]}), 400, "BAD_REQUEST"),
    Case("variables a string", _json({**GOOD, "variables": "{}"}), 400, "BAD_REQUEST"),
    Case("variables a number", _json({**GOOD, "variables": 3}), 400, "BAD_REQUEST"),
    Case("operationName a number", _json({**GOOD, "operationName": 5}), 400, "BAD_REQUEST"),
    Case("operationName a list", _json({**GOOD, "operationName": ["a"]}), 400, "BAD_REQUEST"),
    Case("extensions a string", _json({**GOOD, "extensions": "x"}), 400, "BAD_REQUEST"),
    Case(
        "a mismatched operationName",
        _json({"query": "query A { registryVersion }", "operationName": "B"}),
        400,
        "BAD_REQUEST",
    ),
    Case(
        "two operations, no name",
        _json({"query": "query A { registryVersion } query B { registryVersion }"}),
        400,
        "BAD_REQUEST",
    ),
    Case("a batch", _json([GOOD, GOOD]), 400, "BAD_REQUEST"),
    Case("an empty batch", _json([]), 400, "BAD_REQUEST"),
    Case("text/plain", _json(GOOD), 415, "UNSUPPORTED_MEDIA_TYPE", headers=(("Content-Type", "text/plain"),)),
    Case("no content type", _json(GOOD), 415, "UNSUPPORTED_MEDIA_TYPE", headers=()),
    Case(
        "form-encoded",
        b"query=%7B%20registryVersion%20%7D",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        headers=(("Content-Type", "application/x-www-form-urlencoded"),),
    ),
    Case(
        "application/graphql",
        b"{ registryVersion }",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        headers=(("Content-Type", "application/graphql"),),
    ),
    Case(
        "nothing acceptable",
        _json(GOOD),
        406,
        "NOT_ACCEPTABLE",
        headers=(*JSON.items(), ("Accept", "text/csv")),
    ),
    Case("PUT", _json(GOOD), 405, "METHOD_NOT_ALLOWED", method="PUT"),
    Case("DELETE", None, 405, "METHOD_NOT_ALLOWED", method="DELETE"),
    Case("PATCH", _json(GOOD), 405, "METHOD_NOT_ALLOWED", method="PATCH"),
    Case(
        "a mutation over GET",
        None,
        405,
        "METHOD_NOT_ALLOWED",
        method="GET",
        headers=(),
        params=(("query", 'mutation { createEngine(input: {slug: "x", name: "x"}) { id } }'),),
    ),
    Case(
        "a subscription over POST",
        _json({"query": 'subscription { jobUpdated(id: "Sm9iOjE") { status } }'}),
        400,
        "BAD_REQUEST",
    ),
    Case(
        "GET variables not JSON",
        None,
        400,
        "BAD_REQUEST",
        method="GET",
        headers=(),
        params=(("query", "{ registryVersion }"), ("variables", "{nope")),
    ),
    Case(
        "GET variables a list",
        None,
        400,
        "BAD_REQUEST",
        method="GET",
        headers=(),
        params=(("query", "{ registryVersion }"), ("variables", "[1]")),
    ),
    Case(
        "GET without a query",
        None,
        400,
        "BAD_REQUEST",
        method="GET",
        headers=(("Accept", "application/json"),),
    ),
    Case(
        "a syntax error (graphql-response+json)",
        _json({"query": "{ registryVersion "}),
        400,
        "GRAPHQL_PARSE_FAILED",
        headers=tuple(MODERN.items()),
    ),
    Case(
        "a validation error (graphql-response+json)",
        _json({"query": "{ nope }"}),
        400,
        "GRAPHQL_VALIDATION_FAILED",
        headers=tuple(MODERN.items()),
    ),
    Case(
        "a syntax error (application/json)",
        _json({"query": "{ registryVersion "}),
        200,
        "GRAPHQL_PARSE_FAILED",
    ),
    Case(
        "a validation error (application/json)",
        _json({"query": "{ nope }"}),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Case("an empty query", _json({"query": ""}), 200, "GRAPHQL_PARSE_FAILED"),
    Case(
        "an unknown variable type",
        _json({"query": "query ($a: Nope) { registryVersion }"}),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Case(
        "a missing required variable",
        _json({"query": "query ($id: ID!) { node(id: $id) { id } }"}),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Case(
        "a variable of the wrong type",
        _json({"query": "query ($n: Int) { engines(first: $n) { totalCount } }", "variables": {"n": "ten"}}),
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    Case(
        "a bad Content-Length",
        _json(GOOD),
        400,
        "BAD_REQUEST",
        headers=(*JSON.items(), ("Content-Length", "abc")),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_malformed_request_gets_typed_json(client: GraphQLClient, case: Case) -> None:
    response = await client.http.request(
        case.method,
        "/graphql",
        content=case.body,
        headers=dict(case.headers),
        params=dict(case.params) if case.params else None,
    )
    assert response.status_code == case.status, response.text
    media = response.headers["content-type"].split(";")[0]
    assert media in ("application/json", "application/graphql-response+json")
    body = response.json()
    assert [error["extensions"]["code"] for error in body["errors"]][:1] == [case.code], body
    assert all(error["message"] for error in body["errors"])
    assert "Traceback" not in response.text
    if case.status == 405:
        assert response.headers["allow"] == "POST"
    # and the server still answers a cheap query
    assert (await client.data("{ registryVersion }"))["registryVersion"] >= 0


async def test_the_modern_media_type_is_answered_when_asked_for(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json=GOOD, headers={"Accept": "application/graphql-response+json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    legacy = await client.http.post("/graphql", json=GOOD, headers={"Accept": "application/json"})
    assert legacy.headers["content-type"].startswith("application/json")
    by_get = await client.http.get("/graphql", params={"query": "{ registryVersion }"})
    assert by_get.status_code == 200
    assert by_get.json()["data"] == {"registryVersion": 0}
