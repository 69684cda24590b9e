"""The answer cache: kept for the registry version an answer was computed at, never stale.

Given the app with its answer cache on, when a registry-versioned query is asked twice, then the
second answer is the first (computed once: only the registry version is read), with a fresh rate
limit and the same ETag; when a write lands through the API, the next answer is computed again and
shows it; a GET with a current If-None-Match is a 304; documents that read unversioned data (jobs,
`node`) or answers with errors are never kept; and replicas share answers through Redis.
"""

from __future__ import annotations

from typing import Any

import httpx

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import StatementCounter
from budgraph.settings import Settings
from tests.conftest import GraphQLClient, live_key
from tests.live import serve

ENGINES = "{ engines(first: 10) { totalCount nodes { slug name versions(first: 3) { nodes { version } } } } }"
CREATE = 'mutation ($slug: String!) { createEngine(input: {slug: $slug, name: "Cached"}) { id } }'
JOBS = "{ jobs(first: 5) { totalCount } }"


def _real(statements: StatementCounter) -> list[str]:
    return [q for q in statements.statements if "SAVEPOINT" not in q]


async def test_a_repeated_query_is_answered_from_the_cache_until_a_write(
    client_with: Any, writer_token: str, statements: StatementCounter
) -> None:
    client: GraphQLClient = await client_with(response_cache=True)
    await client.data(CREATE, {"slug": "first"}, token=writer_token)

    statements.reset()
    first = await client.post(ENGINES)
    computed = statements.count
    statements.reset()
    second = await client.post(ENGINES)
    assert first.json()["data"] == second.json()["data"]
    assert first.headers["content-type"].startswith("application/json")
    # The second answer read the registry version and nothing else (the savepoint pair is the test's
    # transaction standing in for autocommit).
    assert computed > 3
    assert [" ".join(q.split()) for q in _real(statements)] == [
        "SELECT registry_state.version, registry_state.epoch FROM registry_state"
    ]

    await client.data(CREATE, {"slug": "second"}, token=writer_token)
    third = (await client.post(ENGINES)).json()
    assert [n["slug"] for n in third["data"]["engines"]["nodes"]] == ["first", "second"]


async def test_unversioned_reads_and_failed_answers_are_never_kept(client_with: Any) -> None:
    client: GraphQLClient = await client_with(response_cache=True)
    answers = client.http._transport.app.state.answers  # type: ignore[attr-defined]
    for document in (JOBS, '{ node(id: "RW5naW5lOjE") { id } }', '{ engine(slug: "a", id: "b") { slug } }'):
        for _ in range(2):
            await client.post(document)
    assert (answers.hits, len(answers._entries)) == (0, 0)
    await client.post(ENGINES)
    await client.post(ENGINES)
    assert (answers.hits, len(answers._entries)) == (1, 1)


async def test_a_get_with_a_current_etag_is_not_modified(client_with: Any, writer_token: str) -> None:
    client: GraphQLClient = await client_with(response_cache=True)
    first = await client.http.get("/graphql", params={"query": ENGINES})
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    again = await client.http.get("/graphql", params={"query": ENGINES}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await client.data(CREATE, {"slug": "moved"}, token=writer_token)
    moved = await client.http.get("/graphql", params={"query": ENGINES}, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert moved.headers["etag"] != etag
    assert moved.json()["data"]["engines"]["totalCount"] == 1


async def test_each_answer_reports_its_own_rate_limit(live_settings: Settings) -> None:
    settings = live_settings.model_copy(update={"response_cache": True, "rate_limit_anonymous_budget": 1000})
    with serve(create_app(settings)) as live:
        async with httpx.AsyncClient(base_url=live.http) as http:
            answers = [(await http.post("/graphql", json={"query": ENGINES})).json() for _ in range(3)]
    remaining = [answer["extensions"]["rateLimit"]["remaining"] for answer in answers]
    assert remaining[0] > remaining[1] > remaining[2]
    assert answers[0]["data"] == answers[1]["data"] == answers[2]["data"]


async def test_replicas_share_answers_and_a_write_on_one_is_seen_by_the_other(
    live_settings: Settings, live_url: str
) -> None:
    settings = live_settings.model_copy(update={"response_cache": True})
    key = await live_key(live_url, "cache-writer", ApiKeyScope.WRITE)
    with serve(create_app(settings)) as one, serve(create_app(settings)) as two:
        async with httpx.AsyncClient() as http:
            await http.post(f"{one.http}/graphql", json={"query": CREATE, "variables": {"slug": "a"}},
                            headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            computed = (await http.post(f"{one.http}/graphql", json={"query": ENGINES})).json()
            shared = (await http.post(f"{two.http}/graphql", json={"query": ENGINES})).json()
            await http.post(f"{two.http}/graphql", json={"query": CREATE, "variables": {"slug": "b"}},
                            headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            after = (await http.post(f"{one.http}/graphql", json={"query": ENGINES})).json()
        answers_two = two.app.state.answers
    assert shared["data"] == computed["data"]
    assert answers_two.hits >= 1  # the second replica answered from what the first computed
    assert [n["slug"] for n in after["data"]["engines"]["nodes"]] == ["a", "b"]
