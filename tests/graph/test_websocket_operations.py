"""Operations over graphql-transport-ws: each has its own unit of work, and none leaks a connection.

Given the app served for real, when many queries, mutations and subscriptions (good and bad) run
over WebSockets, then the pool is whole, nothing is idle in a transaction, a mutation sent over
the WebSocket is saved and logged exactly as over HTTP, and the rows it wrote are not locked.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosedError
from websockets.typing import Subprotocol

from budgraph.db.enums import ApiKeyScope
from tests.conftest import live_key
from tests.live import LiveServer, graphql_ws, idle_in_transaction

ENGINES = "{ engines(first: 5) { totalCount nodes { slug name } } }"
CREATE = 'mutation ($slug: String!) { createEngine(input: {slug: $slug, name: "WS engine"}) { id slug } }'
UPDATE = 'mutation ($id: ID!) { updateEngine(id: $id, input: {name: "Renamed over HTTP"}) { name } }'
REGISTER = 'mutation { registerModel(input: {uri: "budtest/ws-model"}) { job { id } } }'
JOB_UPDATED = "subscription ($id: ID!) { jobUpdated(id: $id) { status step } }"
CHANGES = "{ changes(since: 0) { changes { entityKind operation actor } } }"


async def http(
    live: LiveServer, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=live.http) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    body: dict[str, Any] = response.json()
    return body


async def settled(live: LiveServer) -> None:
    """Wait (briefly) until the app has given back every connection."""
    for _ in range(100):
        if live.checked_out() == 0:
            return
        await asyncio.sleep(0.05)


async def test_many_operations_of_each_kind_leave_the_pool_whole(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "ws-writer", ApiKeyScope.WRITE)
    registered = await http(live, REGISTER, token=key)
    job_id = registered["data"]["registerModel"]["job"]["id"]

    async def one_connection(n: int) -> None:
        async with graphql_ws(live.ws, {"Authorization": f"Bearer {key}"}) as ws:
            for i in range(5):
                ops = [
                    ws.operate(f"q{i}", ENGINES),
                    ws.operate(f"m{i}", CREATE, {"slug": f"ws-{n}-{i}"}),
                    ws.operate(f"bad{i}", "{ engines { nope } }"),
                    ws.operate(f"err{i}", '{ engine(slug: "x", id: "y") { slug } }'),
                ]
                results = await asyncio.gather(*ops)
                assert results[0][0]["type"] == "next"
                assert results[0][-1]["type"] == "complete"
                assert results[1][0]["payload"]["data"]["createEngine"]["slug"] == f"ws-{n}-{i}"
                assert results[2][0]["type"] == "error"
                assert results[3][0]["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
                # A subscription that the client stops while it waits for the next event.
                await ws.start(f"s{i}", JOB_UPDATED, {"id": job_id})
                first = await ws.next(f"s{i}")
                assert first["payload"]["data"]["jobUpdated"]["status"] == "QUEUED", first
                await ws.stop(f"s{i}")

    async def anonymous_connection() -> None:
        async with graphql_ws(live.ws) as ws:
            for i in range(10):
                refused = await ws.operate(f"a{i}", CREATE, {"slug": f"anon-{i}"})
                # Refused before it runs, as over HTTP (where it is a 401).
                assert refused[0]["type"] == "error"
                assert refused[0]["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                answered = await ws.operate(f"r{i}", ENGINES)
                assert answered[0]["payload"]["data"]["engines"]["totalCount"] >= 0

    await asyncio.gather(
        *(one_connection(n) for n in range(6)), anonymous_connection(), anonymous_connection()
    )
    await settled(live)

    assert live.checked_out() == 0
    assert await idle_in_transaction(live_url) == 0
    async with httpx.AsyncClient(base_url=live.http) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
    total = await http(live, "{ engines { totalCount } }")
    assert total["data"]["engines"]["totalCount"] == 30
    assert not any(
        slug.startswith("anon-")
        for slug in [n["slug"] for n in (await http(live, ENGINES))["data"]["engines"]["nodes"]]
    )


async def test_a_mutation_over_the_websocket_is_saved_and_logged_and_locks_nothing(
    live: LiveServer, live_url: str
) -> None:
    key = await live_key(live_url, "ws-writer", ApiKeyScope.WRITE)
    async with graphql_ws(live.ws, {"Authorization": f"Bearer {key}"}) as ws:
        created = await ws.operate("1", CREATE, {"slug": "over-ws"})
        engine_id = created[0]["payload"]["data"]["createEngine"]["id"]
        # The connection stays open: the row must not be locked by it.
        renamed = await asyncio.wait_for(http(live, UPDATE, {"id": engine_id}, token=key), 10)
        assert renamed["data"] == {"updateEngine": {"name": "Renamed over HTTP"}}

    changes = (await http(live, CHANGES))["data"]["changes"]["changes"]
    assert changes == [
        {"entityKind": "Engine", "operation": "CREATE", "actor": "ws-writer"},
        {"entityKind": "Engine", "operation": "UPDATE", "actor": "ws-writer"},
    ]


async def test_a_query_over_the_websocket_answers_as_over_http(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "ws-writer", ApiKeyScope.WRITE)
    await http(live, CREATE, {"slug": "same-answer"}, token=key)
    async with graphql_ws(live.ws) as ws:
        over_ws = await ws.operate("1", ENGINES)
    over_http = await http(live, ENGINES)
    # The same answer; only the rate-limit budget left differs (the first request spent some).
    for answer in (over_ws[0]["payload"], over_http):
        answer["extensions"].pop("rateLimit")
    assert over_ws[0]["payload"] == over_http


async def test_a_waiting_subscription_holds_no_transaction(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "ws-writer", ApiKeyScope.WRITE)
    job_id = (await http(live, REGISTER, token=key))["data"]["registerModel"]["job"]["id"]
    async with graphql_ws(live.ws) as ws:
        for n in range(20):
            await ws.start(f"s{n}", JOB_UPDATED, {"id": job_id})
        for n in range(20):
            message = await ws.next(f"s{n}")
            assert message["payload"]["data"]["jobUpdated"] == {"status": "QUEUED", "step": "queued"}
            assert message["payload"]["extensions"]["cost"] == {"requested": 1, "maximum": 25_000}
        await settled(live)
        # Twenty subscriptions wait for their next event: no connection is held for them.
        assert live.checked_out() == 0
        assert await idle_in_transaction(live_url) == 0
        cancelled = await http(
            live, "mutation ($id: ID!) { cancelJob(id: $id) { status } }", {"id": job_id}, token=key
        )
        assert cancelled["data"] == {"cancelJob": {"status": "CANCELLED"}}
        for n in range(20):
            update, end = await ws.next(f"s{n}"), await ws.next(f"s{n}")
            assert update["payload"]["data"]["jobUpdated"]["status"] == "CANCELLED"
            assert end["type"] == "complete"


async def test_the_key_may_come_in_connection_init(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "browser", ApiKeyScope.WRITE)
    async with graphql_ws(live.ws, {"Authorization": f"Bearer {key}"}) as ws:
        created = await ws.operate("1", CREATE, {"slug": "from-a-browser"})
    assert created[0]["payload"]["data"]["createEngine"]["slug"] == "from-a-browser"

    async with websockets.connect(live.ws, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer bgk_x_wrong"}})
        )
        with pytest.raises(ConnectionClosedError):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 4403
