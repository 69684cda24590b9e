"""Conditional GETs: a poller that is current pays for one cheap request, cache on or off.

Given the app with its answer cache off or on, when a registry-versioned query is asked over GET,
then the answer carries a weak ETag derived from the registry version, the document, the operation
name, the variables and the caller's scope; the same GET with that ETag in If-None-Match is a 304
with an empty body that reads only the registry version; after a write through the API the same
GET is a 200 with the new answer and a new ETag. Answers with errors, answers that read
unversioned data, and POSTs are never 304s.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import StatementCounter
from tests.conftest import GraphQLClient, live_key
from tests.live import LiveServer

ENGINES = "{ engines(first: 10) { totalCount nodes { slug name } } }"
ENGINE = "query One($slug: String!) { engine(slug: $slug) { slug name } }"
CREATE = 'mutation ($slug: String!) { createEngine(input: {slug: $slug, name: "Polled"}) { id } }'
ERRORED = '{ engine(slug: "a", id: "b") { slug } }'
JOBS = "{ jobs(first: 5) { totalCount } }"
FEED = "{ changes(since: 0) { registryVersion hasMore changes { entityKind operation } } }"
VERSION_READ = "SELECT registry_state.version, registry_state.epoch FROM registry_state"

CACHE = pytest.mark.parametrize("response_cache", [False, True], ids=["cache-off", "cache-on"])


async def _client(client_with: Any, response_cache: bool) -> GraphQLClient:
    client: GraphQLClient = await client_with(response_cache=response_cache)
    return client


async def _get(
    client: GraphQLClient,
    query: str,
    variables: str | None = None,
    etag: str | None = None,
    token: str | None = None,
) -> Any:
    params = {"query": query, **({"variables": variables} if variables else {})}
    headers = {"If-None-Match": etag} if etag else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.http.get("/graphql", params=params, headers=headers)


@CACHE
async def test_a_current_etag_is_a_304_until_a_write_moves_the_registry(
    client_with: Any, writer_token: str, response_cache: bool
) -> None:
    client = await _client(client_with, response_cache)
    await client.data(CREATE, {"slug": "first"}, token=writer_token)

    first = await _get(client, ENGINES)
    etag = first.headers["etag"]
    assert first.status_code == 200
    assert etag.startswith('W/"')
    assert etag.endswith('"')
    assert first.headers["cache-control"] == "no-cache"
    assert [n["slug"] for n in first.json()["data"]["engines"]["nodes"]] == ["first"]

    again = await _get(client, ENGINES, etag=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # A client may send several tags, and strong ones: a GET compares weakly.
    several = await _get(client, ENGINES, etag=f'"other", {etag.removeprefix("W/")}')
    assert several.status_code == 304

    await client.data(CREATE, {"slug": "second"}, token=writer_token)
    moved = await _get(client, ENGINES, etag=etag)
    assert moved.status_code == 200
    assert moved.headers["etag"] != etag
    assert [n["slug"] for n in moved.json()["data"]["engines"]["nodes"]] == ["first", "second"]
    current = await _get(client, ENGINES, etag=moved.headers["etag"])
    assert current.status_code == 304


@CACHE
async def test_a_304_reads_the_registry_version_and_nothing_else(
    client_with: Any, writer_token: str, statements: StatementCounter, response_cache: bool
) -> None:
    client = await _client(client_with, response_cache)
    await client.data(CREATE, {"slug": "polled"}, token=writer_token)
    etag = (await _get(client, ENGINES)).headers["etag"]

    statements.reset()
    assert (await _get(client, ENGINES, etag=etag)).status_code == 304
    # The savepoint pair is the test's transaction standing in for autocommit.
    read = [" ".join(q.split()) for q in statements.statements if "SAVEPOINT" not in q]
    assert read == [VERSION_READ]


@CACHE
async def test_the_etag_names_the_document_the_operation_the_variables_and_the_scope(
    client_with: Any, writer_token: str, response_cache: bool
) -> None:
    client = await _client(client_with, response_cache)
    await client.data(CREATE, {"slug": "a"}, token=writer_token)
    await client.data(CREATE, {"slug": "b"}, token=writer_token)

    a = await _get(client, ENGINE, '{"slug": "a"}')
    b = await _get(client, ENGINE, '{"slug": "b"}')
    assert (a.json()["data"]["engine"]["slug"], b.json()["data"]["engine"]["slug"]) == ("a", "b")
    keyed = await _get(client, ENGINES, token=writer_token)
    anonymous = await _get(client, ENGINES)
    tags = {a.headers["etag"], b.headers["etag"], keyed.headers["etag"], anonymous.headers["etag"]}
    assert len(tags) == 4

    # Another question's (or another scope's) tag is not this answer's: a 200 with the answer.
    other = await _get(client, ENGINE, '{"slug": "b"}', etag=a.headers["etag"])
    assert (other.status_code, other.json()["data"]["engine"]["slug"]) == (200, "b")
    anonymous_tag = await _get(client, ENGINES, etag=anonymous.headers["etag"], token=writer_token)
    assert anonymous_tag.status_code == 200
    assert anonymous_tag.headers["etag"] == keyed.headers["etag"]
    # The same variables written otherwise are the same question.
    spaced = await _get(client, ENGINE, '{ "slug" : "a" }', etag=a.headers["etag"])
    assert spaced.status_code == 304


@CACHE
async def test_answers_with_errors_and_unversioned_answers_have_no_etag(
    client_with: Any, response_cache: bool
) -> None:
    client = await _client(client_with, response_cache)
    errored = await _get(client, ERRORED)
    assert errored.status_code == 200
    assert [e["extensions"]["code"] for e in errored.json()["errors"]] == ["BAD_USER_INPUT"]
    assert "etag" not in errored.headers
    invalid = await _get(client, ENGINE, '{"slug": 1}')
    assert [e["extensions"]["code"] for e in invalid.json()["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "etag" not in invalid.headers

    jobs = await _get(client, JOBS)
    assert jobs.json()["data"] == {"jobs": {"totalCount": 0}}
    assert "etag" not in jobs.headers
    # Whatever it is sent, an answer of unversioned data is computed and sent.
    engines_tag = (await _get(client, ENGINES)).headers["etag"]
    assert (await _get(client, JOBS, etag=engines_tag)).status_code == 200


@CACHE
async def test_a_post_is_never_a_304(client_with: Any, response_cache: bool) -> None:
    client = await _client(client_with, response_cache)
    etag = (await _get(client, ENGINES)).headers["etag"]
    posted = await client.http.post(
        "/graphql",
        json={"query": ENGINES},
        headers={"If-None-Match": etag, "Content-Type": "application/json"},
    )
    assert posted.status_code == 200
    assert posted.json()["data"] == {"engines": {"totalCount": 0, "nodes": []}}


async def test_a_mutation_over_get_is_refused_with_any_etag(client_with: Any, writer_token: str) -> None:
    client = await _client(client_with, False)
    etag = (await _get(client, ENGINES)).headers["etag"]
    refused = await _get(client, CREATE, '{"slug": "over-get"}', etag=etag, token=writer_token)
    assert refused.status_code == 405
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["METHOD_NOT_ALLOWED"]
    assert "etag" not in refused.headers
    assert (await client.data(ENGINES))["engines"]["totalCount"] == 0


async def test_a_served_poller_of_the_change_feed_is_told_not_modified(
    live: LiveServer, live_url: str
) -> None:
    """The real app (cache off, the direct answers and the version reader on their own connections)."""
    key = await live_key(live_url, "poll-writer", ApiKeyScope.WRITE)
    async with httpx.AsyncClient(base_url=live.http) as http:

        async def poll(etag: str | None = None) -> httpx.Response:
            headers = {"If-None-Match": etag} if etag else {}
            return await http.get("/graphql", params={"query": FEED}, headers=headers)

        async def create(slug: str) -> None:
            created = await http.post(
                "/graphql",
                json={"query": CREATE, "variables": {"slug": slug}},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert created.json()["data"]["createEngine"]["id"]

        await create("one")
        first = await poll()
        assert first.json()["data"]["changes"]["registryVersion"] == 1
        assert (await poll(first.headers["etag"])).status_code == 304
        await create("two")
        moved = await poll(first.headers["etag"])
        assert moved.status_code == 200
        assert moved.json()["data"]["changes"]["registryVersion"] == 2
        assert (await poll(moved.headers["etag"])).status_code == 304
