"""`registryChanged` over graphql-transport-ws: the change feed pushed, one event per registry version.

Given the app served for real, when a client subscribes with `since: N`, then it receives every
version after N (each with all its changes, as the feed types them), then each version another
client commits, as it is committed; a client that subscribes again with the last version it got
loses nothing; `kinds` keeps only versions with changes of those kinds; a bad `since`, `epoch` or
`kinds` is a typed error; waiting subscriptions hold no connection of the pool and no transaction;
and the connection's operation limit holds for them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import RequestSession
from budgraph.registry import service
from budgraph.registry.watch import RegistryWatch
from budgraph.settings import Settings
from tests.conftest import GraphQLClient, live_key
from tests.live import LiveServer, graphql_ws, idle_in_transaction, plain_dsn, serve

FOLLOW = """
subscription ($since: BigInt, $epoch: ID, $kinds: [String!]) {
  registryChanged(since: $since, epoch: $epoch, kinds: $kinds) {
    registryVersion registryEpoch changes { registryVersion entityKind entityKey operation actor }
  }
}
"""
CREATE = 'mutation ($slug: String!) { createEngine(input: {slug: $slug, name: "Followed"}) { id } }'
THREE = """
mutation {
  a: createEngine(input: {slug: "a", name: "A"}) { id }
  b: createEngine(input: {slug: "b", name: "B"}) { id }
  c: createEngine(input: {slug: "c", name: "C"}) { id }
}
"""
VERSION = """
mutation ($engine: ID!, $version: String!) {
  createEngineVersion(input: {engineId: $engine, version: $version, deviceArchitecture: CUDA,
                              containerImage: "img"}) { id }
}
"""
EPOCH = "{ registryEpoch }"


@pytest.fixture
def followed(live_settings: Settings) -> Iterator[LiveServer]:
    """The app served for real, polling the registry version often (the tests wait for it)."""
    settings = live_settings.model_copy(update={"registry_poll_interval_seconds": 0.05})
    with serve(create_app(settings)) as server:
        yield server


class Writer:
    """Another client, writing over HTTP with a write key."""

    def __init__(self, live: LiveServer, key: str) -> None:
        self.live = live
        self.key = key

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.live.http) as http:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {self.key}"},
            )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def engine(self, slug: str) -> str:
        created: str = (await self.run(CREATE, {"slug": slug}))["createEngine"]["id"]
        return created


@pytest.fixture
async def writer(followed: LiveServer, live_url: str) -> Writer:
    return Writer(followed, await live_key(live_url, "follow-writer", ApiKeyScope.WRITE))


def _engine(slug: str, version: int) -> dict[str, Any]:
    return {
        "registryVersion": version,
        "entityKind": "Engine",
        "entityKey": {"slug": slug},
        "operation": "CREATE",
        "actor": "follow-writer",
    }


def _event(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["registryChanged"]
    return event


async def _settled(live: LiveServer, waiting: int) -> None:
    """Wait (briefly) until ``waiting`` subscriptions wait for the registry to move."""
    watch: RegistryWatch = live.app.state.registry_watch
    for _ in range(200):
        if watch.waiting == waiting and live.checked_out() == 0:
            return
        await asyncio.sleep(0.05)


async def test_the_backlog_after_since_then_each_new_version(followed: LiveServer, writer: Writer) -> None:
    await writer.engine("one")  # version 1
    await writer.run(THREE)  # version 2: three changes
    await writer.engine("four")  # version 3
    epoch = (await writer.run(EPOCH))["registryEpoch"]

    async with graphql_ws(followed.ws) as ws:
        await ws.start("s", FOLLOW, {"since": 1})
        assert _event(await ws.next("s")) == {
            "registryVersion": 2,
            "registryEpoch": epoch,
            "changes": [_engine("a", 2), _engine("b", 2), _engine("c", 2)],
        }
        assert _event(await ws.next("s")) == {
            "registryVersion": 3,
            "registryEpoch": epoch,
            "changes": [_engine("four", 3)],
        }
        # A write from another client arrives as the next event, with its version.
        await writer.engine("five")
        assert _event(await ws.next("s")) == {
            "registryVersion": 4,
            "registryEpoch": epoch,
            "changes": [_engine("five", 4)],
        }

    # Written while nobody listened: subscribing again with the last version loses nothing.
    await writer.engine("six")
    await writer.engine("seven")
    async with graphql_ws(followed.ws) as ws:
        await ws.start("again", FOLLOW, {"since": 4, "epoch": epoch})
        versions = [_event(await ws.next("again")) for _ in range(2)]
    assert [(v["registryVersion"], v["changes"]) for v in versions] == [
        (5, [_engine("six", 5)]),
        (6, [_engine("seven", 6)]),
    ]


async def test_without_since_only_new_versions_are_sent(followed: LiveServer, writer: Writer) -> None:
    await writer.engine("before")
    async with graphql_ws(followed.ws) as ws:
        await ws.start("s", FOLLOW)
        await _settled(followed, 1)
        await writer.engine("after")
        event = _event(await ws.next("s"))
    assert (event["registryVersion"], event["changes"]) == (2, [_engine("after", 2)])


async def test_kinds_keeps_only_the_versions_with_changes_of_those_kinds(
    followed: LiveServer, writer: Writer
) -> None:
    vllm = await writer.engine("vllm")  # version 1
    await writer.run(VERSION, {"engine": vllm, "version": "0.8.0"})  # version 2
    await writer.engine("sglang")  # version 3
    async with graphql_ws(followed.ws) as ws:
        await ws.start("s", FOLLOW, {"since": 0, "kinds": ["EngineVersion"]})
        backlog = _event(await ws.next("s"))
        await writer.engine("skipped")  # version 4: no engine version changed
        await writer.run(VERSION, {"engine": vllm, "version": "0.9.0"})  # version 5
        live = _event(await ws.next("s"))
    assert [(c["registryVersion"], c["entityKind"]) for c in backlog["changes"]] == [(2, "EngineVersion")]
    assert backlog["registryVersion"] == 2
    assert [(c["registryVersion"], c["entityKind"]) for c in live["changes"]] == [(5, "EngineVersion")]
    assert live["registryVersion"] == 5


async def test_a_bad_since_epoch_or_kinds_is_a_typed_error(followed: LiveServer, writer: Writer) -> None:
    await writer.engine("one")
    epoch = (await writer.run(EPOCH))["registryEpoch"]
    async with graphql_ws(followed.ws) as ws:
        negative = await ws.operate("negative", FOLLOW, {"since": -1})
        beyond = await ws.operate("beyond", FOLLOW, {"since": 2})
        other = await ws.operate("epoch", FOLLOW, {"since": 1, "epoch": "another-registry"})
        kinds = await ws.operate("kinds", FOLLOW, {"since": 0, "kinds": ["Engine", "Nope"]})

    def errors(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert [m["type"] for m in messages] == ["next", "complete"], messages
        assert messages[0]["payload"]["data"] is None
        found: list[dict[str, Any]] = messages[0]["payload"]["errors"]
        return [error["extensions"] for error in found]

    assert errors(negative) == [{"code": "BAD_USER_INPUT", "field": "since"}]
    resync = {"code": "RESYNC_REQUIRED", "registryVersion": 1, "registryEpoch": epoch}
    assert errors(beyond) == [{**resync, "field": "since"}]
    assert errors(other) == [{**resync, "field": "epoch"}]
    assert errors(kinds) == [{"code": "BAD_USER_INPUT", "field": "kinds"}]


async def test_a_reset_while_subscribed_ends_the_subscription_with_resync_required(
    followed: LiveServer, writer: Writer, live_url: str
) -> None:
    await writer.engine("one")
    async with graphql_ws(followed.ws) as ws:
        await ws.start("s", FOLLOW, {"since": 0})
        assert _event(await ws.next("s"))["registryVersion"] == 1
        await _settled(followed, 1)
        connection = await asyncpg.connect(plain_dsn(live_url))
        try:
            # A registry recreated (or restored from an older backup): a new epoch.
            epoch = await connection.fetchval(
                "UPDATE registry_state SET version = 0, epoch = gen_random_uuid() RETURNING epoch::text"
            )
        finally:
            await connection.close()
        ended, complete = await ws.next("s"), await ws.next("s")
    assert ended["type"] == "next"
    assert ended["payload"]["data"] is None
    assert [e["extensions"] for e in ended["payload"]["errors"]] == [
        {"code": "RESYNC_REQUIRED", "field": "epoch", "registryVersion": 0, "registryEpoch": epoch}
    ]
    assert complete == {"id": "s", "type": "complete"}


async def test_waiting_subscriptions_hold_no_connection(
    followed: LiveServer, writer: Writer, live_url: str
) -> None:
    await writer.engine("one")
    async with graphql_ws(followed.ws) as ws:
        for n in range(20):
            await ws.start(f"s{n}", FOLLOW, {"since": 0})
        for n in range(20):
            assert _event(await ws.next(f"s{n}"))["registryVersion"] == 1
        await _settled(followed, 20)
        # Twenty subscriptions wait for the registry to move: no connection is held for them.
        assert followed.app.state.registry_watch.waiting == 20
        assert followed.checked_out() == 0
        assert await idle_in_transaction(live_url) == 0
        await writer.engine("two")
        for n in range(20):
            assert _event(await ws.next(f"s{n}"))["changes"] == [_engine("two", 2)]
        for n in range(20):
            await ws.stop(f"s{n}")
        await _settled(followed, 0)
    assert followed.app.state.registry_watch.waiting == 0
    assert followed.checked_out() == 0


async def test_the_connection_operation_limit_holds(followed: LiveServer, writer: Writer) -> None:
    await writer.engine("one")
    async with graphql_ws(followed.ws) as ws:
        for n in range(100):
            await ws.start(f"s{n}", FOLLOW)
        await _settled(followed, 100)
        refused = await ws.operate("one-too-many", FOLLOW)
    assert refused == [
        {"id": "one-too-many", "type": "error", "payload": [{"message": "Subscription limit reached"}]}
    ]


async def test_versions_are_read_whole_across_batches(
    client: GraphQLClient, writer_token: str, session: RequestSession
) -> None:
    await client.data(THREE, token=writer_token)  # version 1: three changes
    await client.data(CREATE, {"slug": "d"}, token=writer_token)  # version 2
    await client.data(THREE.replace('"a', '"e').replace('"b', '"f').replace('"c', '"g'), token=writer_token)

    async def read(since: int, kinds: list[str] | None, batch: int) -> list[list[tuple[int, str]]]:
        return [
            [(row.registry_version, row.entity_key["slug"]) for row in rows]
            async for rows in service.versions_after(session, since, kinds, batch)
        ]

    expected = [[(1, "a"), (1, "b"), (1, "c")], [(2, "d")], [(3, "e"), (3, "f"), (3, "g")]]
    for batch in (1, 2, 3, 100):
        assert await read(0, None, batch) == expected
    assert await read(1, None, 2) == expected[1:]
    assert await read(3, None, 2) == []
    assert await read(0, ["EngineVersion"], 2) == []
