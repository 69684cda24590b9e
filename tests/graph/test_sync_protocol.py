"""docs/sync.md's protocol, run with its example client (docs/sync_client.py) against a registry served
for real: the client follows the feed while several operators write at once, and once they stop, one
more sync leaves it with an exact copy of the registry at the registry's version; a reset registry is
copied again from scratch; a damaged cursor, rate limiting and cheap polls are handled as the doc says."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.events.message import ChangeEvent
from budgraph.events.repository import unpublished
from budgraph.registry.repository import RegistryPosition, current_position
from budgraph.settings import Settings
from docs.sync_client import Backoff, RegistryCopy, RegistrySync
from tests.conftest import live_key
from tests.graph.sync_reads import full_read, registry_ids
from tests.live import LiveServer, empty_database, serve

DOCS = Path(__file__).resolve().parents[2] / "docs"
WRITERS = 4
ROUNDS = 6
ARCHITECTURES = ["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"]

SETUP = """
mutation {
  llama: createModelArchitecture(input: {className: "LlamaForCausalLM", family: "llama"}) { id }
  qwen: createModelArchitecture(input: {className: "Qwen2ForCausalLM", family: "qwen2"}) { id }
  mistral: createModelArchitecture(input: {className: "MistralForCausalLM", family: "mistral"}) { id }
  cloud: createProvider(input: {slug: "cloud", name: "Cloud", kind: COMPUTE_CLOUD}) { id }
}
"""
CREATE_ENGINE = "mutation ($slug: String!) { createEngine(input: {slug: $slug, name: $slug}) { id } }"
UPDATE_ENGINE = "mutation ($id: ID!, $name: String!) { updateEngine(id: $id, input: {name: $name}) { id } }"
CREATE_VERSION = """
mutation ($engine: ID!, $version: String!, $archs: [String!]!) {
  createEngineVersion(input: {engineId: $engine, version: $version, deviceArchitecture: CUDA,
                              containerImage: "img", architectures: $archs}) { id }
}
"""
UPDATE_VERSION = """
mutation ($id: ID!, $image: String!) { updateEngineVersion(id: $id, input: {containerImage: $image}) { id } }
"""
DELETE_VERSION = "mutation ($id: ID!) { deleteEngineVersion(id: $id) { deletedId } }"
ADD_COMPATIBILITY = """
mutation ($id: ID!, $archs: [String!]!) { addCompatibility(engineVersionId: $id, architectures: $archs) { id } }
"""
REMOVE_COMPATIBILITY = """
mutation ($id: ID!, $archs: [String!]!) { removeCompatibility(engineVersionId: $id, architectures: $archs) { id } }
"""
CREATE_HARDWARE = """
mutation ($sku: String!) {
  createHardware(input: {sku: $sku, name: $sku, vendor: "nvidia", deviceArchitecture: CUDA}) { id }
}
"""
UPDATE_HARDWARE = (
    "mutation ($id: ID!, $gb: Decimal!) { updateHardware(id: $id, input: {memoryGb: $gb}) { id } }"
)
DELETE_HARDWARE = "mutation ($id: ID!) { deleteHardware(id: $id) { deletedId } }"
SET_PRICE = """
mutation ($sku: String!, $region: String!, $price: Decimal!) {
  setHardwarePrice(input: {sku: $sku, providerSlug: "cloud", region: $region, instanceType: "x1",
                           onDemandPerHour: $price, asOf: "2026-01-01"}) { id }
}
"""


@dataclass
class Progress:
    """How many writes the operators have committed, and whether they are done."""

    committed: int = 0
    done: bool = False
    interleaved: int = 0  # pages of the runtime that a write followed before the next one was read

    def __post_init__(self) -> None:
        self.changed = asyncio.Condition()

    async def wrote(self) -> None:
        async with self.changed:
            self.committed += 1
            self.changed.notify_all()

    async def finish(self) -> None:
        async with self.changed:
            self.done = True
            self.changed.notify_all()

    async def after_page(self) -> None:
        """While the operators write, the runtime reads its next page only after one more write."""
        async with self.changed:
            mark = self.committed
            if not self.done:
                self.interleaved += 1
            await self.changed.wait_for(lambda: self.committed > mark or self.done)


Post = Callable[[str, dict[str, Any] | None], Awaitable[dict[str, Any]]]


@dataclass
class Operator:
    """Posts GraphQL with a write key; every answer must be free of errors."""

    http: httpx.AsyncClient
    url: str

    async def rekey(self) -> None:
        """A new write key (a reset registry has forgotten the old one)."""
        key = await live_key(self.url, "operator", ApiKeyScope.WRITE)
        self.http.headers["Authorization"] = f"Bearer {key}"

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = (
            await self.http.post("/graphql", json={"query": query, "variables": variables})
        ).json()
        assert body.get("errors") is None, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def served(live_settings: Settings) -> Iterator[LiveServer]:
    """The registry served for real, with its response cache, reading the registry version often
    for subscriptions (the push test waits for them)."""
    settings = live_settings.model_copy(
        update={"response_cache": True, "registry_poll_interval_seconds": 0.05}
    )
    with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
async def operator(served: LiveServer, live_url: str) -> AsyncIterator[Operator]:
    async with httpx.AsyncClient(base_url=served.http, timeout=30) as http:
        operator = Operator(http, live_url)
        await operator.rekey()
        yield operator


@pytest.fixture
async def reader(served: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of the served registry (what the runtime and the full read use)."""
    async with httpx.AsyncClient(base_url=served.http, timeout=30) as http:
        yield http


async def truth(http: httpx.AsyncClient, url: str) -> tuple[dict[str, dict[str, Any]], RegistryPosition]:
    """A fresh full read of the registry (ids from its tables, entities through the graph), and the
    registry's position, read after it."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            ids = await registry_ids(session)
        entities = await full_read(http, ids)
        async with AsyncSession(engine) as session:
            position = await current_position(session)
    finally:
        await engine.dispose()
    return entities, position


async def write(post: Post, progress: Progress, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = await post(query, variables)
    await progress.wrote()
    return data


async def operate(post: Post, progress: Progress, writer: int) -> None:
    """One operator's rounds: versions created, edited, re-pointed and deleted; an engine renamed;
    hardware priced, resized, deleted (with its prices) and replaced."""

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        return await write(post, progress, query, variables)

    engine = (await run(CREATE_ENGINE, slug=f"engine-{writer}"))["createEngine"]["id"]
    sku = f"gpu-{writer}-0"
    hardware = (await run(CREATE_HARDWARE, sku=sku))["createHardware"]["id"]
    versions: list[str] = []
    for round_ in range(ROUNDS):
        arch, next_arch = ARCHITECTURES[round_ % 3], ARCHITECTURES[(round_ + 1) % 3]
        created = await run(CREATE_VERSION, engine=engine, version=f"{round_}.0", archs=[arch])
        versions.append(created["createEngineVersion"]["id"])
        await run(UPDATE_ENGINE, id=engine, name=f"Engine {writer} round {round_}")
        await run(SET_PRICE, sku=sku, region=f"region-{round_}", price=f"{round_}.5")
        await run(ADD_COMPATIBILITY, id=versions[round_], archs=[next_arch])
        if round_ >= 1:
            await run(UPDATE_VERSION, id=versions[round_ - 1], image=f"img-{round_}")
            await run(REMOVE_COMPATIBILITY, id=versions[round_ - 1], archs=[ARCHITECTURES[(round_ - 1) % 3]])
        if round_ >= 2 and round_ % 2 == 0:
            await run(DELETE_VERSION, id=versions[round_ - 2])
        if round_ == 3:
            await run(DELETE_HARDWARE, id=hardware)
            sku = f"gpu-{writer}-1"
            hardware = (await run(CREATE_HARDWARE, sku=sku))["createHardware"]["id"]
        await run(UPDATE_HARDWARE, id=hardware, gb=f"{16 + round_}")


async def test_a_runtime_following_the_feed_under_concurrent_writes_ends_with_an_exact_copy(
    operator: Operator, reader: httpx.AsyncClient, live_url: str
) -> None:
    # given a registry with architectures and a provider, and a runtime following it (small pages)
    await operator(SETUP, None)
    runtime = RegistrySync(reader, page_size=5)
    progress = Progress()
    stop = asyncio.Event()
    following = asyncio.create_task(runtime.follow(stop, poll_seconds=0.01, after_page=progress.after_page))

    # when four operators write at once while it follows (each page it reads is followed by a write)
    await asyncio.gather(*(operate(operator, progress, writer) for writer in range(WRITERS)))
    await progress.finish()
    stop.set()
    await following

    # then, once they stop, one more sync leaves it with exactly the registry, at its version
    await runtime.sync()
    entities, position = await truth(reader, live_url)
    assert runtime.copy.entities == entities
    assert (runtime.copy.version, runtime.copy.epoch, runtime.copy.after) == (
        position.version,
        position.epoch,
        None,
    )
    assert progress.interleaved >= 1
    kinds = sorted(node["__typename"] for node in entities.values())
    assert {kind: kinds.count(kind) for kind in set(kinds) - {"CompatibilityEdge"}} == {
        "Engine": WRITERS,
        "EngineVersion": WRITERS * 4,  # six created, the first and third deleted
        "Hardware": WRITERS,  # the first deleted in round 3, its successor kept
        "HardwarePrice": WRITERS * 2,  # rounds 4 and 5 on the successor
        "ModelArchitecture": 3,
        "Provider": 1,
    }
    names = sorted(node["name"] for node in entities.values() if node["__typename"] == "Engine")
    assert names == [f"Engine {writer} round {ROUNDS - 1}" for writer in range(WRITERS)]


async def test_a_runtime_pushed_each_version_under_concurrent_writes_ends_with_an_exact_copy(
    operator: Operator, reader: httpx.AsyncClient, served: LiveServer, live_url: str
) -> None:
    # given a registry and a runtime subscribed to registryChanged
    await operator(SETUP, None)
    runtime = RegistrySync(reader)
    stop = asyncio.Event()
    pushing = asyncio.create_task(runtime.push(served.ws, stop))

    # when four operators write at once
    await asyncio.gather(*(operate(operator, Progress(), writer) for writer in range(WRITERS)))
    final = (await truth(reader, live_url))[1]
    for _ in range(600):  # the subscription follows within a poll interval of each commit
        if runtime.copy.version >= final.version or pushing.done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await pushing

    # then the versions pushed left it with exactly the registry, at its version
    entities, position = await truth(reader, live_url)
    assert runtime.copy.entities == entities
    assert (runtime.copy.version, runtime.copy.epoch) == (position.version, position.epoch)
    assert len([node for node in entities.values() if node["__typename"] == "EngineVersion"]) == WRITERS * 4


async def test_a_pushed_version_of_more_changes_than_one_read_holds_is_read_in_parts(
    operator: Operator, reader: httpx.AsyncClient, served: LiveServer, live_url: str
) -> None:
    # given 120 architectures and an engine, and a runtime subscribed to registryChanged
    names = [f"Arch{i}ForCausalLM" for i in range(120)]
    for start in range(0, len(names), 30):
        aliases = " ".join(
            f'a{i}: createModelArchitecture(input: {{className: "{name}"}}) {{ id }}'
            for i, name in enumerate(names[start : start + 30])
        )
        await operator(f"mutation {{ {aliases} }}", None)
    engine = (await operator(CREATE_ENGINE, {"slug": "vllm"}))["createEngine"]["id"]
    runtime = RegistrySync(reader)
    stop = asyncio.Event()
    pushing = asyncio.create_task(runtime.push(served.ws, stop))
    before = (await truth(reader, live_url))[1]
    for _ in range(600):  # its first sync: what follows comes through the subscription
        if runtime.copy.version == before.version or pushing.done():
            break
        await asyncio.sleep(0.05)
    assert runtime.copy.version == before.version

    # when one write creates a version serving all of them (one registry version, 121 changes)
    await operator(CREATE_VERSION, {"engine": engine, "version": "1.0", "archs": names})
    final = (await truth(reader, live_url))[1]
    for _ in range(600):  # the subscription follows within a poll interval of the commit
        if runtime.copy.version >= final.version or pushing.done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await pushing

    # then the runtime has the version and its 120 edges
    entities, position = await truth(reader, live_url)
    assert runtime.copy.entities == entities
    assert runtime.copy.version == position.version
    edges = [node for node in entities.values() if node["__typename"] == "CompatibilityEdge"]
    assert len(edges) == 120


async def test_a_reset_registry_is_copied_again_from_scratch(
    operator: Operator, reader: httpx.AsyncClient, live_url: str
) -> None:
    # given a runtime that copied a registry
    await operator(SETUP, None)
    runtime = RegistrySync(reader)
    await runtime.sync()
    old = runtime.copy
    assert len(old.entities) == 4

    # when the registry is reset (emptied: a new epoch, versions from 0) and written again
    await empty_database(live_url)
    await operator.rekey()
    await operator(CREATE_ENGINE, {"slug": "vllm"})
    await runtime.sync()

    # then the runtime's copy is the new registry alone, at its epoch and version
    entities, position = await truth(reader, live_url)
    assert [node["slug"] for node in entities.values()] == ["vllm"]
    assert runtime.copy.entities == entities
    assert (runtime.copy.version, runtime.copy.epoch) == (position.version, position.epoch)
    assert runtime.copy.epoch != old.epoch


async def test_a_position_beyond_the_registry_and_a_damaged_cursor_recover(
    operator: Operator, reader: httpx.AsyncClient, live_url: str
) -> None:
    await operator(SETUP, None)
    entities, position = await truth(reader, live_url)

    # a copy from "the future" (a registry restored from an older backup): copied again
    ahead = RegistrySync(reader, RegistryCopy(version=position.version + 100, entities={"gone": {}}))
    await ahead.sync()
    assert ahead.copy.entities == entities
    assert ahead.copy.version == position.version

    # a stored cursor that is damaged: the changes since the copy's version are read again
    damaged = RegistrySync(reader, RegistryCopy(after="not a cursor"))
    await damaged.sync()
    assert damaged.copy.entities == entities
    assert (damaged.copy.version, damaged.copy.after) == (position.version, None)


async def test_polls_are_304_while_the_registry_has_not_moved(operator: Operator, served: LiveServer) -> None:
    statuses: list[int] = []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async with httpx.AsyncClient(base_url=served.http, event_hooks={"response": [record]}) as http:
        runtime = RegistrySync(http)
        await operator(SETUP, None)
        await runtime.sync()

        # when it polls twice without a write, then once after one
        statuses.clear()
        unmoved = [await runtime.moved(), await runtime.moved()]
        await operator(CREATE_ENGINE, {"slug": "vllm"})
        moved = await runtime.moved()

    # then the second poll is a 304 without a body, and the one after the write sees the move
    assert (unmoved, moved) == ([False, False], True)
    assert statuses == [200, 304, 200]


async def test_a_rate_limited_runtime_waits_and_then_copies_the_registry(
    operator: Operator, live_settings: Settings, reader: httpx.AsyncClient, live_url: str
) -> None:
    # given a registry served with a budget of three requests per second for anonymous callers
    await operator(SETUP, None)
    await operator(CREATE_ENGINE, {"slug": "vllm"})
    limited = live_settings.model_copy(
        update={"rate_limit_anonymous_budget": 30, "rate_limit_window_seconds": 1}
    )
    statuses: list[int] = []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    # when a runtime syncs in pages of one change (a request per page and per entity)
    with serve(create_app(limited)) as server:
        async with httpx.AsyncClient(base_url=server.http, event_hooks={"response": [record]}) as http:
            runtime = RegistrySync(http, page_size=1, backoff=Backoff(first_seconds=0.05, attempts=20))
            await runtime.sync()

    # then it was refused with 429 and waited as told, and ends with the registry
    entities, position = await truth(reader, live_url)
    assert 429 in statuses
    assert runtime.copy.entities == entities
    assert runtime.copy.version == position.version


async def events(url: str, after: int = 0) -> list[dict[str, Any]]:
    """The data of the registry events the publisher sends for the changes after change ``after``."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            epoch = (await current_position(session)).epoch
            rows = await unpublished(session, after, 1000)
    finally:
        await engine.dispose()
    return [json.loads(ChangeEvent.from_row(row, uuid.UUID(epoch)).data()) for row in rows]


async def test_events_delivered_at_least_once_sync_once_per_new_version(
    operator: Operator, reader: httpx.AsyncClient, live_url: str
) -> None:
    # given a runtime that copied a registry, then an operator's writes
    await operator(SETUP, None)
    runtime = RegistrySync(reader)
    await runtime.sync()
    applied = await events(live_url)
    await operator(CREATE_ENGINE, {"slug": "vllm"})
    await operator(CREATE_HARDWARE, {"sku": "nvidia-l4"})

    # when their events arrive twice each (a publisher that crashed before its mark sends them again),
    # after a repeat of one already applied
    fresh = await events(live_url, after=applied[-1]["changeId"])
    assert [event["entityKind"] for event in fresh] == ["Engine", "Hardware"]
    handled = [await runtime.on_event(event) for event in [applied[-1], *fresh, *fresh]]

    # then the first new one syncs (up to the registry's version), the others cost nothing
    assert handled == [False, True, False, False, False]
    entities, position = await truth(reader, live_url)
    assert runtime.copy.entities == entities
    assert runtime.copy.version == position.version

    # and an event of a reset registry (another epoch) copies the new registry from scratch
    await empty_database(live_url)
    await operator.rekey()
    await operator(CREATE_ENGINE, {"slug": "sglang"})
    assert await runtime.on_event((await events(live_url))[0]) is True
    entities, position = await truth(reader, live_url)
    assert [node["slug"] for node in runtime.copy.entities.values()] == ["sglang"]
    assert (runtime.copy.version, runtime.copy.epoch) == (position.version, position.epoch)


def test_the_doc_shows_the_example_client_as_it_is() -> None:
    doc = (DOCS / "sync.md").read_text(encoding="utf-8")
    source = (DOCS / "sync_client.py").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in doc
