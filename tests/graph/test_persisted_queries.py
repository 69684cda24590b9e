"""Automatic persisted queries: a client sends a document's sha256; the registry asks for the
document once (PERSISTED_QUERY_NOT_FOUND), keeps it, and from then on the hash is enough (POST or GET)."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import GraphQLClient

QUERY = "{ engines(first: 2) { totalCount } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": DIGEST}}


async def test_a_hash_is_asked_for_once_then_enough(client: GraphQLClient) -> None:
    unknown = (await client.http.post("/graphql", json={"extensions": PERSISTED})).json()
    assert [e["extensions"]["code"] for e in unknown["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]

    registered = await client.http.post("/graphql", json={"query": QUERY, "extensions": PERSISTED})
    assert registered.json()["data"] == {"engines": {"totalCount": 0}}
    by_hash = await client.http.post("/graphql", json={"extensions": PERSISTED})
    assert by_hash.json()["data"] == {"engines": {"totalCount": 0}}
    by_get = await client.http.get("/graphql", params={"extensions": json.dumps(PERSISTED)})
    assert by_get.status_code == 200
    assert by_get.json()["data"] == {"engines": {"totalCount": 0}}


async def test_a_wrong_or_malformed_hash_is_refused(client: GraphQLClient) -> None:
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    body = (await client.http.post("/graphql", json={"query": QUERY, "extensions": wrong})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    for malformed in ({"version": 2, "sha256Hash": DIGEST}, {"version": 1, "sha256Hash": "xyz"}, "abc"):
        response = await client.http.post("/graphql", json={"extensions": {"persistedQuery": malformed}})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
